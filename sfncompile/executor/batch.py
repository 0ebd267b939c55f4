"""``arn:aws:states:::batch:submitJob.sync`` run as a local process.

The job definition's command runs exactly as written (``Ref::name`` replaced
from the definition's default parameters merged with the SubmitJob
``Parameters``; ``python3`` replaced by this interpreter), with the
definition's environment plus the ``ContainerOverrides.Environment``. The
attempt duration (``Timeout.AttemptDurationSeconds``, else the definition's)
kills an attempt that runs too long; the ``RetryStrategy`` (attempts,
``evaluateOnExit``) decides whether Batch would try again. The result is the
job description AWS returns; a failed job fails the task with
``States.TaskFailed`` and the job description (JSON) as the cause, as the
Step Functions Batch integration does.
"""

from __future__ import annotations

import atexit
import collections
import fnmatch
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from sfncompile_runtime import envnames

from .cancel import Cancelled
from .errors import TASK_FAILED, StatesError
from .interpreter import TaskCall

EXITED_REASON = "Essential container in task exited"
TIMEOUT_REASON = "Job attempt duration exceeded timeout"
TERMINATED_REASON = "Terminated by the local executor"
KILL_GRACE_SECONDS = 5.0
LOG_TAIL_LINES = 40
# Set per task by the state machine (ContainerOverrides) and read by the step runner only.
TASK_VARIABLES = frozenset({envnames.RUN_ID, envnames.INDEX_PATH, envnames.RETRY_COUNT, envnames.PARAMETERS,
                            envnames.FOREACH, envnames.CAUGHT_ERROR})
OUTPUT_DRAIN_SECONDS = 30.0


@dataclass
class LocalJobDefinition:
    """What the local runner needs from a Batch job definition (see ``jobdefs.JobDefinitionSpec``)."""

    name: str
    command: list[str]
    environment: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    retry_strategy: dict[str, Any] = field(default_factory=dict)
    timeout_seconds: int | None = None
    # Never forked from a warm process: its steps build their own interpreter (@pypi/@conda).
    fresh_process: bool = False

    @classmethod
    def from_spec(cls, name: str, spec) -> "LocalJobDefinition":
        return cls(name=name, command=list(spec.command), environment=dict(spec.environment),
                   parameters=dict(spec.parameters), retry_strategy=dict(spec.retry_strategy or {}),
                   timeout_seconds=spec.timeout_seconds)


@dataclass
class JobRecord:
    """One finished job (all its attempts), for progress views and failure reports."""

    job_id: str
    job_name: str
    parameters: dict[str, str]
    environment: dict[str, str]
    status: str
    exit_code: int | None
    reason: str
    log_path: str | None
    log_tail: list[str]
    attempts: int
    started_at: float
    stopped_at: float


def substitute_refs(command: list[str], parameters: Mapping[str, str]) -> list[str]:
    """Batch's ``Ref::name`` substitution: whole-argument references only, unknown ones kept."""
    out = []
    for arg in command:
        if arg.startswith("Ref::") and arg[5:] in parameters:
            out.append(str(parameters[arg[5:]]))
        else:
            out.append(arg)
    return out


def local_command(command: list[str], parameters: Mapping[str, str]) -> list[str]:
    """The job's command as this machine runs it: ``Ref::`` substituted, ``python3`` this interpreter."""
    command = substitute_refs(list(command), parameters)
    if command and command[0] in ("python3", "python"):
        command[0] = sys.executable
    return command


def prestart_zygote(pool, definition: LocalJobDefinition, overrides: Mapping[str, str],
                    base_environment: Mapping[str, str]) -> None:
    """Start, in the background, the warm process a task of ``definition`` will be forked from:
    its start (a Python start, the code package's check, the runtime's imports) then overlaps
    whatever the run does next instead of delaying that task. ``overrides``: the task's own
    environment variables (its Task state's, per-task variables excluded). The zygote is the one
    the task computes (same command, same environment); should the task need another after all,
    this one is merely unused, and closed with the others."""
    if definition.fresh_process:
        return
    command = local_command(definition.command, definition.parameters)
    if len(command) > 3 and command[1] == "-c":
        pool.prestart(command, warm_environment({**base_environment, **definition.environment, **overrides}))


def warm_environment(task: Mapping[str, str]) -> dict[str, str]:
    """The environment the warm process for this task starts with: the task's own, except
    the per-task variables of the contract (run id, index path, retry count, parameters,
    ...), which only the step runner reads, after the fork. Everything else (a step's
    @environment variables included) is set before anything runs, as in a fresh process;
    tasks whose environments differ get different warm processes."""
    return {key: value for key, value in task.items() if key not in TASK_VARIABLES}


def _evaluate_on_exit(rules, exit_code, status_reason, reason) -> str | None:
    """'RETRY', 'EXIT' or None (no rule matched), as Batch evaluates ``evaluateOnExit``."""
    for rule in rules or []:
        checks = []
        if "onExitCode" in rule:
            checks.append(exit_code is not None and fnmatch.fnmatchcase(str(exit_code), rule["onExitCode"]))
        if "onStatusReason" in rule:
            checks.append(fnmatch.fnmatchcase(status_reason or "", rule["onStatusReason"]))
        if "onReason" in rule:
            checks.append(fnmatch.fnmatchcase(reason or "", rule["onReason"]))
        if checks and all(checks):
            return rule.get("action", "EXIT").upper()
    return None


# Process groups of the tasks running now, across runs in this process: a second Ctrl-C or any
# other way out of the CLI ends them (atexit) instead of leaving them behind.
running_groups: set[int] = set()


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


_parent_watch: list[int] = []
_parent_watch_lock = threading.Lock()


def parent_watch_fd() -> int:
    """The read end of this process's watch pipe, passed to every task it starts (cold start).

    The write end stays open, never written, in this process only (not inheritable): when the
    process ends, however it ends, every task reads EOF and ends its process group
    (``sfncompile_runtime.processes.watch_parent``) — a task session of its own would otherwise
    outlive a SIGKILLed CLI. (Warm-started tasks are the zygote's children; it watches its own pipe.)"""
    with _parent_watch_lock:
        if not _parent_watch:
            read_end, write_end = os.pipe()
            _parent_watch.extend((read_end, write_end))
        return _parent_watch[0]


def kill_running_tasks() -> None:
    """SIGKILL every task process group still running (no grace: the user asked twice, or we are exiting)."""
    for pgid in list(running_groups):
        _kill_group(pgid)
        running_groups.discard(pgid)


atexit.register(kill_running_tasks)


class LocalBatch:
    """Runs Batch jobs as local processes. Thread-safe; one instance per run."""

    def __init__(
        self,
        job_definitions: Mapping[str, LocalJobDefinition],
        *,
        log_dir: str | os.PathLike | None = None,
        base_environment: Mapping[str, str] | None = None,
        on_event: Callable[[str, dict], None] | None = None,
        warm_start: bool = False,
        warm_pool=None,
    ):
        self.job_definitions = dict(job_definitions)
        self.warm = None
        if warm_start:
            from .warm import ZygotePool, supported

            if not supported():
                raise RuntimeError("warm start needs Linux (os.pidfd_open, socket.send_fds)")
            # ``warm_pool``: one the caller made before the run (a zygote started ahead in it).
            self.warm = warm_pool if warm_pool is not None else ZygotePool()
        self.log_dir = Path(log_dir) if log_dir else None
        self.base_environment = dict(os.environ if base_environment is None else base_environment)
        self.on_event = on_event or (lambda kind, info: None)
        self.jobs: list[JobRecord] = []
        self._lock = threading.Lock()

    # The handler the interpreter calls for batch:submitJob(.sync).
    def submit_job_sync(self, parameters: Mapping[str, Any], call: TaskCall) -> dict:
        request = dict(parameters)
        name = request.get("JobDefinition", "")
        definition = self._definition(name)
        job_params = dict(definition.parameters)
        job_params.update({k: str(v) for k, v in (request.get("Parameters") or {}).items()})
        overrides = request.get("ContainerOverrides") or {}
        env = dict(definition.environment)
        for item in overrides.get("Environment") or []:
            env[item["Name"]] = str(item.get("Value", ""))
        command = local_command(overrides.get("Command") or definition.command, job_params)
        timeout = (request.get("Timeout") or {}).get("AttemptDurationSeconds") or definition.timeout_seconds
        strategy = request.get("RetryStrategy") or definition.retry_strategy or {}
        max_attempts = int(strategy.get("Attempts") or strategy.get("attempts") or 1)
        rules = strategy.get("EvaluateOnExit") or strategy.get("evaluateOnExit") or []
        job_id = str(uuid.uuid4())
        job_name = request.get("JobName", "job")
        created = time.time()
        attempts: list[dict] = []
        info = {"job_id": job_id, "job_name": job_name, "parameters": job_params, "environment": env}
        self.on_event("started", info)
        log_path = None
        while True:
            log_path = self._log_path(job_name, job_id, len(attempts))
            started = time.time()
            exit_code, reason, tail = self._run_attempt(command, env, timeout, call, log_path,
                                                        definition.environment, info, definition.fresh_process)
            stopped = time.time()
            status_reason = reason
            attempts.append({
                "Container": {"ExitCode": exit_code, "LogStreamName": str(log_path) if log_path else None,
                              "Reason": reason if exit_code is None else None},
                "StartedAt": int(started * 1000), "StoppedAt": int(stopped * 1000),
                "StatusReason": status_reason,
            })
            if exit_code == 0:
                break
            action = _evaluate_on_exit(rules, exit_code, status_reason, reason)
            if len(attempts) >= max_attempts or action == "EXIT":
                break
        succeeded = exit_code == 0
        description = {
            "JobArn": f"arn:aws:batch:local:000000000000:job/{job_id}",
            "JobName": job_name,
            "JobId": job_id,
            "JobQueue": request.get("JobQueue"),
            "Status": "SUCCEEDED" if succeeded else "FAILED",
            "StatusReason": attempts[-1]["StatusReason"],
            "Attempts": attempts,
            "CreatedAt": int(created * 1000),
            "StartedAt": attempts[0]["StartedAt"],
            "StoppedAt": attempts[-1]["StoppedAt"],
            "DependsOn": [],
            "JobDefinition": definition.name,
            "Parameters": job_params,
            "Container": {
                "Command": command,
                "Environment": [{"Name": k, "Value": v} for k, v in sorted(env.items())],
                "ExitCode": exit_code,
                "LogStreamName": str(log_path) if log_path else None,
            },
            "Timeout": {"AttemptDurationSeconds": timeout} if timeout else None,
            "RetryStrategy": {"Attempts": max_attempts},
        }
        record = JobRecord(job_id, job_name, job_params, env, description["Status"], exit_code,
                           attempts[-1]["StatusReason"], str(log_path) if log_path else None, tail,
                           len(attempts), created, time.time())
        with self._lock:
            self.jobs.append(record)
        self.on_event("succeeded" if succeeded else "failed", {**info, "record": record})
        if not succeeded:
            raise StatesError(TASK_FAILED, json.dumps(description, separators=(",", ":")))
        return description

    def prestart(self, request: Mapping[str, Any]) -> None:
        """Start the warm process of the run's first task now (``prestart_zygote``), from the
        SubmitJob parameters of the Task state that runs it, as the state machine writes them:
        only their static values count; when the environment holds a value the state machine
        computes (``Value.$``) other than the per-task variables, nothing starts here."""
        if self.warm is None:
            return
        try:
            definition = self._definition(request.get("JobDefinition", ""))
        except StatesError:
            return
        overrides = request.get("ContainerOverrides") or {}
        if "Command" in overrides or "Command.$" in overrides:
            return
        env = {}
        for item in overrides.get("Environment") or []:
            if item.get("Name") in TASK_VARIABLES:
                continue
            if "Value" not in item:
                return  # computed by the state machine: not known before the task
            env[item["Name"]] = str(item["Value"])
        prestart_zygote(self.warm, definition, env, self.base_environment)

    def _definition(self, name: str) -> LocalJobDefinition:
        if name in self.job_definitions:
            return self.job_definitions[name]
        # An ARN or "name:revision" names the same definition.
        short = name.rsplit("/", 1)[-1].split(":", 1)[0]
        if short in self.job_definitions:
            return self.job_definitions[short]
        raise StatesError(
            TASK_FAILED,
            f"JobDefinition '{name}' is not known to the local executor "
            f"(known: {', '.join(sorted(self.job_definitions))})",
        )

    def _log_path(self, job_name: str, job_id: str, attempt: int) -> Path | None:
        if self.log_dir is None:
            return None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in job_name)
        return self.log_dir / f"{safe}-{job_id[:8]}-{attempt}.log"

    def _run_attempt(self, command, env, timeout, call: TaskCall, log_path, static_env=None, info=None,
                     fresh=False):
        """Run one attempt; returns (exit code or None, status reason, last log lines).

        Each line the task prints is also a ``log`` event (with the process id), as it comes.
        """
        full_env = dict(self.base_environment)
        full_env.update(env)
        tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        log_file = open(log_path, "wb") if log_path else None
        try:
            process = self._start(command, static_env or {}, full_env, fresh)
        except (OSError, RuntimeError) as exc:
            if log_file:
                log_file.close()
            return None, f"CannotStartContainerError: {exc}", [str(exc)]

        def pump():
            for line in process.stdout:
                if log_file and not log_file.closed:
                    log_file.write(line)
                text = line.decode(errors="replace").rstrip("\n")
                tail.append(text)
                if info is not None:
                    self.on_event("log", {**info, "line": text, "pid": process.pid})

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        deadline = time.monotonic() + timeout if timeout else None
        outcome = {"reason": EXITED_REASON, "stop": None}
        finished = threading.Event()

        def watch():
            # Cancellation and the attempt deadline are polled here, so that the
            # wait below returns the moment the process exits.
            while not finished.wait(0.05):
                if call.cancel.cancelled():
                    outcome["stop"] = call.cancel.why() or "cancelled"
                    outcome["reason"] = TIMEOUT_REASON if outcome["stop"] == "timeout" else TERMINATED_REASON
                    self._terminate(process)
                    return
                if deadline is not None and time.monotonic() > deadline:
                    outcome["reason"] = TIMEOUT_REASON
                    self._terminate(process)
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            process.wait()
        finally:
            # The job is over when its first process is: whatever it left running in its group goes
            # too (Batch stops the container), so nothing holds its output open or outlives the run.
            _kill_group(process.pid)
            running_groups.discard(process.pid)
        finished.set()
        watcher.join()
        # EOF comes once the task's process (and any child it left holding the pipe) is gone; on a
        # loaded machine the reader can lag, and every line must reach the log and the console.
        reader.join(timeout=OUTPUT_DRAIN_SECONDS)
        if log_file:
            log_file.close()
        reason, stop = outcome["reason"], outcome["stop"]
        code = process.returncode
        if stop is not None and stop != "timeout":
            raise Cancelled(stop)
        if reason == TIMEOUT_REASON:
            return None, reason, list(tail)
        return code, reason, list(tail)

    def _start(self, command, static_env, full_env, fresh=False):
        process = self._spawn(command, static_env, full_env, fresh)
        running_groups.add(process.pid)  # a session leader: its pid is its process group
        return process

    def _spawn(self, command, static_env, full_env, fresh=False):
        """The job's process: a fork of its zygote (warm start), or the command itself."""
        if self.warm is not None and not fresh and len(command) > 3 and command[1] == "-c":
            zygote = self.warm.get(command, warm_environment(full_env))
        else:
            zygote = None
        if zygote is not None:
            read_fd, write_fd = os.pipe()
            try:
                child = zygote.spawn(command[3:], full_env, write_fd)
            finally:
                os.close(write_fd)
            child.stdout = os.fdopen(read_fd, "rb")
            return child
        watch = parent_watch_fd()
        return subprocess.Popen(command, env={**full_env, envnames.PARENT_WATCH_FD: str(watch)},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, pass_fds=(watch,))

    def close(self):
        if self.warm is not None:
            self.warm.close()

    @staticmethod
    def _terminate(process):
        """SIGTERM the job's process group, SIGKILL it after a grace period (docker stop's way)."""
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + KILL_GRACE_SECONDS
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.05)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
