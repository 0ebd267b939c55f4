"""Run one generated case of Metaflow's core suite with one executor, then check it.

What the upstream harness does per case, with our tools in place of Metaflow's:

* ``cli``: ``sfncompile run test_flow.py <run options>``; when the test asks
  for it (``RESUME``) and the run failed, ``sfncompile resume test_flow.py
  [--step RESUME_STEP] <run options>``.
* ``api``: the same through ``Runner(flow_file).run(**options)`` /
  ``.resume(...)`` (``api_executor.py``, in a process of its own).
* then ``python check_flow.py MetadataCheck <run id>``: the upstream check
  file over our client API (``from metaflow ...`` is ours, via ``support/``).

``SHOULD_FAIL`` tests must fail the run (and are still checked, as upstream
does). Every case has its own directory, datastore and process group; a
case that outlives its timeout is killed with its group.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
UPSTREAM = HERE / "upstream"
SUPPORT = HERE / "support"
CONTEXT_NAME = "python3-all-local"

# Verdicts.
PASS, FAIL, REFUSED, CARDS, UNAVAILABLE = "pass", "fail", "refused", "cards", "unavailable"


def load_context(name: str = CONTEXT_NAME) -> dict:
    contexts = json.loads((UPSTREAM / "contexts.json").read_text())
    for context in contexts["contexts"]:
        if context["name"] == name:
            return context
    raise KeyError(name)


@dataclass
class Proc:
    """One process the case ran: what, how it ended, what it said."""

    what: str
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False


@dataclass
class Outcome:
    case: str          # "Test/graph"
    executor: str
    verdict: str       # PASS, FAIL, REFUSED, CARDS, UNAVAILABLE
    reason: str = ""   # first meaningful error line (FAIL), the refusal (REFUSED)
    seconds: float = 0.0
    procs: list[Proc] = field(default_factory=list)
    workdir: str = ""

    def to_json(self) -> dict:
        return {"case": self.case, "executor": self.executor, "verdict": self.verdict, "reason": self.reason,
                "seconds": round(self.seconds, 2), "workdir": self.workdir,
                "procs": [{"what": p.what, "argv": p.argv, "returncode": p.returncode, "seconds": round(p.seconds, 2),
                           "timed_out": p.timed_out, "stdout": p.stdout[-4000:], "stderr": p.stderr[-8000:]}
                          for p in self.procs]}


@dataclass
class Settings:
    """How to run cases: which tools, which options, how long to wait."""

    python: str = sys.executable
    sfncompile: list[str] = field(default_factory=lambda: [sys.executable, "-m", "sfncompile.cli.main"])
    timeout: float = 300.0
    keep: bool = False
    run_options: list[str] = field(default_factory=list)     # what our CLI accepts of the context's
    dropped_options: list[str] = field(default_factory=list)  # what it does not (yet)
    run_id_file: bool = False
    # Calibration only: a Python with real Metaflow, for the ``metaflow`` executor
    # (the driver never imports it; it only runs it, when asked).
    reference_python: str | None = None
    context: dict = field(default_factory=dict)


def cli_help(settings: Settings, command: str) -> str:
    proc = subprocess.run([*settings.sfncompile, command, "--help"], capture_output=True, text=True, timeout=60)
    return proc.stdout


def configure(settings: Settings, context: dict) -> Settings:
    """Keep the context's run options our CLI has; list the ones it lacks (reported, never hidden)."""
    helps = [cli_help(settings, "run"), cli_help(settings, "resume")]
    kept, dropped = [], []
    for option in context["run_options"]:
        name = option.split("=", 1)[0]
        if all(name in text for text in helps):
            kept.append(option)
        else:
            dropped.append(name)
    settings.run_options = kept
    settings.dropped_options = sorted(set(dropped))
    settings.run_id_file = all("--run-id-file" in text for text in helps)
    if not settings.run_id_file:
        settings.dropped_options.append("--run-id-file")
    return settings


# -- environment -------------------------------------------------------------

def case_env(context: dict, workdir: Path, *, for_check: bool = False, ours: bool = True) -> dict:
    """Upstream's environment (no inheritance) plus our datastore; the check also sees ``support/``."""
    env = {
        "USER": os.environ.get("USER", "tester"),
        "HOME": os.environ.get("HOME", str(workdir)),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONIOENCODING": "utf_8",
        "SFNCOMPILE_DATASTORE": str(workdir / ".sfncompile"),
    }
    if os.environ.get("TMPDIR"):
        env["TMPDIR"] = os.environ["TMPDIR"]
    env.update(context["env"])
    paths = [str(workdir)]
    if for_check and ours:
        paths.insert(0, str(SUPPORT))
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def run_process(what: str, argv: list[str], cwd: Path, env: dict, timeout: float) -> Proc:
    """Run in a new session so that a timeout kills the whole process group (tasks included)."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
    return Proc(what, argv, proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                time.monotonic() - started, timed_out)


# -- reasons -----------------------------------------------------------------

_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Failed|Mismatch|NotFound|Interrupt|Exit)\b.*|"
                       r"AssertionError.*)$")
_NOISE = ("Traceback (most recent call last)", "During handling of the above exception")


def first_error_line(proc: Proc) -> str:
    """The line that says what went wrong: an exception line, else an 'error' line, else the last line."""
    if proc.timed_out:
        return f"{proc.what}: timed out after {proc.seconds:.0f}s"
    lines = [line.strip() for line in (proc.stderr + "\n" + proc.stdout).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(_NOISE)]
    exceptions = [line for line in lines if _EXC_LINE.match(line)]
    if exceptions:
        line = exceptions[-1]
    else:
        errors = [line for line in lines if "error" in line.lower() or "failed" in line.lower()]
        line = errors[0] if errors else (lines[-1] if lines else f"exit code {proc.returncode}, no output")
    return f"{proc.what}: {line[:300]}"


# -- the case ------------------------------------------------------------------

def prepare(case: dict, root: Path | None = None) -> Path:
    workdir = Path(tempfile.mkdtemp(prefix=f"mfcore_{case['test']}_{case['graph']}_", dir=root))
    (workdir / "test_flow.py").write_text(case["flow_code"])
    (workdir / "check_flow.py").write_text(case["check_code"])
    shutil.copytree(UPSTREAM / "metaflow_test", workdir / "metaflow_test",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in case["copy_files"]:
        shutil.copy2(UPSTREAM / "tests" / name, workdir / name)
    return workdir


def _run_id(workdir: Path, procs: list[Proc]) -> str | None:
    path = workdir / "run-id"
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    api_result = workdir / "api_result.json"
    if api_result.is_file():  # the Runner's ExecutingRun.run.id
        ids = [step["run_id"] for step in json.loads(api_result.read_text())["steps"] if step.get("run_id")]
        if ids:
            return ids[-1]
    for proc in reversed(procs):  # our CLI prints the run id as the first line of stdout
        for line in proc.stdout.splitlines():
            if re.fullmatch(r"\d{8}T\d{6}-\w+", line.strip()):
                return line.strip()
    return None


def _cli_argv(settings: Settings, mode: str, case: dict) -> list[str]:
    argv = [*settings.sfncompile, mode, "test_flow.py"]
    if mode == "resume" and case["resume_step"]:
        argv += ["--step", case["resume_step"]]
    argv += settings.run_options
    if settings.run_id_file:
        argv += ["--run-id-file", "run-id"]
    return argv


def _execute_cli(case, settings, workdir, env, deadline) -> list[Proc]:
    procs = [run_process("run", _cli_argv(settings, "run", case), workdir, env, deadline())]
    if procs[-1].returncode and case["should_resume"] and not case["should_fail"] and not procs[-1].timed_out:
        procs.append(run_process("resume", _cli_argv(settings, "resume", case), workdir, env, deadline()))
    return procs


class Unavailable(Exception):
    """The executor itself is missing (e.g. no ``Runner`` yet): reported, not counted as a flow failure."""


def _execute_api(case, settings, workdir, env, deadline) -> list[Proc]:
    spec = {"run_options": settings.run_options, "run_id_file": settings.run_id_file,
            "top_options": settings.context.get("top_options", []),
            "resume": case["should_resume"] and not case["should_fail"], "resume_step": case["resume_step"]}
    (workdir / "api_spec.json").write_text(json.dumps(spec))
    api_env = dict(env)
    api_env["PYTHONPATH"] = os.pathsep.join([str(SUPPORT), env["PYTHONPATH"]])
    proc = run_process("api", [settings.python, str(HERE / "api_executor.py"), "api_spec.json"], workdir, api_env,
                       deadline())
    result_path = workdir / "api_result.json"
    if not result_path.is_file():
        return [proc]
    result = json.loads(result_path.read_text())
    if result.get("unavailable"):
        raise Unavailable(f"api: {result['error']}")
    procs = [Proc(f"api {step['mode']}", ["Runner", step["mode"]], step["returncode"], step["stdout"],
                  step["stderr"], step["seconds"]) for step in result["steps"]]
    if result.get("error") or not procs:
        procs.append(Proc("api", proc.argv, proc.returncode or 1, proc.stdout,
                          proc.stderr + "\n" + (result.get("error") or ""), proc.seconds, proc.timed_out))
    return procs


def _execute_reference(case, settings, workdir, env, deadline) -> list[Proc]:
    """Metaflow itself, as upstream runs it: calibrates the driver (every in-scope case should pass)."""
    context = settings.context

    def argv(mode):
        args = [settings.reference_python, "-B", "test_flow.py", *context["top_options"], mode]
        if mode == "resume" and case["resume_step"]:
            args.append(case["resume_step"])
        return [*args, "--run-id-file", "run-id", *context["run_options"]]

    procs = [run_process("run", argv("run"), workdir, env, deadline())]
    if procs[-1].returncode and case["should_resume"] and not case["should_fail"] and not procs[-1].timed_out:
        procs.append(run_process("resume", argv("resume"), workdir, env, deadline()))
    return procs


EXECUTORS = {"cli": _execute_cli, "api": _execute_api, "metaflow": _execute_reference}


def run_case(case: dict, executor: str, context: dict, settings: Settings) -> Outcome:
    started = time.monotonic()
    name = f"{case['test']}/{case['graph']}"
    workdir = prepare(case)
    outcome = Outcome(name, executor, FAIL, workdir=str(workdir))

    def deadline() -> float:
        return max(1.0, settings.timeout - (time.monotonic() - started))

    try:
        env = case_env(context, workdir)
        try:
            procs = EXECUTORS[executor](case, settings, workdir, env, deadline)
        except Unavailable as exc:
            outcome.verdict, outcome.reason = UNAVAILABLE, str(exc)
            return outcome
        outcome.procs.extend(procs)
        last = procs[-1]
        if last.timed_out:
            outcome.reason = first_error_line(last)
        elif last.what == "api":  # the Runner call itself failed, not the flow
            outcome.reason = first_error_line(last)
        elif last.returncode and not case["should_fail"]:
            outcome.reason = first_error_line(last)
        elif not last.returncode and case["should_fail"]:
            outcome.reason = f"{last.what}: the flow should have failed but it succeeded"
        else:
            run_id = _run_id(workdir, procs)
            if run_id is None:
                outcome.reason = f"{last.what}: no run id (neither a run-id file nor one printed)"
            else:
                ours = executor != "metaflow"
                python = settings.python if ours else settings.reference_python
                check = run_process("check", [python, "check_flow.py", "MetadataCheck", run_id,
                                              *context["top_options"]],
                                    workdir, case_env(context, workdir, for_check=True, ours=ours), deadline())
                outcome.procs.append(check)
                if check.returncode:
                    outcome.reason = first_error_line(check)
                else:
                    outcome.verdict = PASS
    finally:
        outcome.seconds = time.monotonic() - started
        if not settings.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            outcome.workdir = ""
    return outcome


# -- refused by design -------------------------------------------------------

POSITIONED = re.compile(r"test_flow\.py:\d+:\d+: error")


def check_refusal(case: dict, expected: tuple[str, ...], settings: Settings, context: dict) -> Outcome:
    """A case we refuse by design must be refused by ``sfncompile check`` at a line, for that reason."""
    started = time.monotonic()
    name = f"{case['test']}/{case['graph']}"
    workdir = prepare(case)
    try:
        proc = run_process("check", [*settings.sfncompile, "check", "test_flow.py"], workdir,
                           case_env(context, workdir), settings.timeout)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    messages = [line.strip() for line in (proc.stdout + proc.stderr).splitlines() if POSITIONED.search(line)]
    relevant = [m for m in messages if any(word in m.lower() for word in expected)]
    outcome = Outcome(name, "check", FAIL, seconds=time.monotonic() - started, procs=[proc])
    if proc.returncode == 0:
        outcome.reason = "check: accepted a flow we refuse by design (" + "/".join(expected) + ")"
    elif relevant:
        outcome.verdict = REFUSED
        outcome.reason = relevant[0]
    elif messages:
        outcome.reason = "check: refused for another reason: " + messages[0]
    else:
        outcome.reason = "check: refused without a positioned message: " + first_error_line(proc)
    return outcome
