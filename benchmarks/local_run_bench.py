"""Local runs: `sfncompile run` against Metaflow 2.19's local `run`, same flows, same machine.

Two flows, written once with `from metaflow import ...` (sfncompile accepts
them unchanged): a 5-step linear flow and a foreach over 100 items. Each
round runs Metaflow then sfncompile back to back (paired), from a cold
datastore each time; the report gives medians over the rounds, the ratio,
and where sfncompile's time goes: CLI start and preparation, and per task
(process start + runtime imports, the step, the commit) from the task
records and the local executor's job records.

    python benchmarks/local_run_bench.py [--rounds 5] [--metaflow /work/mfvenv/bin/python] [--only linear5]
                                         [--before OLD_TREE]

Needs a Metaflow venv (default /work/mfvenv). Not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LINEAR = '''
from metaflow import FlowSpec, step


class Linear5Flow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.a)

    @step
    def a(self):
        self.x += 1
        self.next(self.b)

    @step
    def b(self):
        self.x += 1
        self.next(self.c)

    @step
    def c(self):
        self.x += 1
        self.next(self.end)

    @step
    def end(self):
        print("x", self.x)


if __name__ == "__main__":
    Linear5Flow()
'''

FOREACH = '''
from metaflow import FlowSpec, step


class Foreach{n}Flow(FlowSpec):
    @step
    def start(self):
        self.items = list(range({n}))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.y = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.y for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)


if __name__ == "__main__":
    Foreach{n}Flow()
'''


def foreach_flow(n: int) -> str:
    """The foreach benchmark flow over ``n`` items (class ``Foreach<n>Flow``); also the wide one's."""
    return FOREACH.format(n=n)


FLOWS = {"linear5": ("Linear5Flow", LINEAR, 2.08), "foreach23": ("Foreach23Flow", foreach_flow(23), 12.0),
         "foreach100": ("Foreach100Flow", foreach_flow(100), 51.4)}
GOALS = {"linear5": 5.0, "foreach23": 10.0, "foreach100": 10.0}


def run_metaflow(python: str, flow_file: Path, workdir: Path) -> float:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update({"METAFLOW_HOME": str(workdir / "mfhome"), "USERNAME": "bench", "METAFLOW_USER": "bench",
                "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(workdir / "mfds")})
    started = time.perf_counter()
    proc = subprocess.run([python, str(flow_file), "--no-pylint", "run"], cwd=workdir, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"metaflow run of {flow_file.name} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def run_sfncompile(flow_file: Path, workdir: Path, max_workers: int | None, fresh: bool = False,
                   root: Path = ROOT, label: str = "") -> tuple[float, str, Path]:
    """``sfncompile run`` by default (warm start), or with a fresh process per task; ``root``:
    the source tree to run (another checkout for a before/after column)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "runtime")])
    datastore = workdir / ("sfnds-fresh" if fresh else "sfnds" + label)
    cmd = [sys.executable, "-m", "sfncompile.cli.main", "run", str(flow_file), "--datastore", str(datastore)]
    if max_workers:
        cmd += ["--max-workers", str(max_workers)]
    if fresh:
        cmd += ["--no-warm-start"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"sfncompile run of {flow_file.name} failed:\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout.strip().splitlines()[-1], datastore


def task_breakdown(datastore: Path, flow: str, run_id: str) -> dict[str, float]:
    """Per task, from the runtime's records: time inside the runtime (started.json → record)
    versus the executor's view of the job (process start → exit)."""
    run_dir = datastore / flow / "runs" / run_id
    inside = []
    for record in run_dir.glob("*/*/*/record.json"):
        rec = json.loads(record.read_text())
        started = json.loads((record.parent / "started.json").read_text())["started_at"]
        inside.append(rec["finished_at"] - started)
    logs = sorted((datastore / "_local_logs" / flow / run_id).glob("*.log"))
    return {"tasks": len(inside), "runtime_inside_ms": 1000 * statistics.median(inside) if inside else 0.0,
            "log_files": len(logs)}


def measure_task_startup(datastore: Path, flow: str, run_id: str, rounds: int = 5) -> dict[str, float]:
    """One task re-run standalone: the job definition's command with its environment."""
    from sfncompile_runtime.bootstrap import BOOTSTRAP_SOURCE

    code = sorted((datastore / flow / "code").glob("*.tar.gz"))[0]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update({"SFNCOMPILE_CODE_URL": str(code), "SFNCOMPILE_CODE_SHA256": code.name[:-7],
                "SFNCOMPILE_DATASTORE": str(datastore), "SFNCOMPILE_RUN_ID": run_id,
                "SFNCOMPILE_SIDE_CHANNEL": "sqlite://" + str(datastore / "sidechannel.db"),
                "SFNCOMPILE_INDEX_PATH": "", "SFNCOMPILE_RETRY_COUNT": "0"})
    whole, bare, imports = [], [], []
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env)
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", BOOTSTRAP_SOURCE, "step", "end"], env=env, capture_output=True)
        whole.append(time.perf_counter() - t)
        package_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "sfncompile-code" / code.name[:-7]
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sfncompile_runtime.main, sfncompile_runtime.api"],
                       env=dict(env, PYTHONPATH=str(package_dir)))
        imports.append(time.perf_counter() - t)
    return {"python_start_ms": 1000 * statistics.median(bare),
            "python_plus_runtime_imports_ms": 1000 * statistics.median(imports),
            "whole_task_ms": 1000 * statistics.median(whole)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--metaflow", default="/work/mfvenv/bin/python")
    parser.add_argument("--max-workers", type=int, default=None, help="sfncompile --max-workers (default: CPUs)")
    parser.add_argument("--only", choices=sorted(FLOWS), action="append")
    parser.add_argument("--json", dest="json_out", help="write the numbers here too")
    parser.add_argument("--before", type=Path, help="another source tree (e.g. `git archive cc3b7d6 | tar -x -C "
                        "DIR`): its default `sfncompile run` also runs in every round, paired")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT), str(ROOT / "runtime")]
    have_metaflow = Path(args.metaflow).exists()
    report = {"cpus": os.cpu_count(), "rounds": args.rounds, "flows": {}}
    for name in args.only or sorted(FLOWS):
        flow, source, reference = FLOWS[name]
        mf, ours, warm, before = [], [], [], []
        last = None
        for _ in range(args.rounds):
            work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
            # The flow gets a directory of its own: the code package holds the flow's directory,
            # and the datastores must not be in it.
            (work / "flow").mkdir()
            flow_file = work / "flow" / f"{name}.py"
            flow_file.write_text(source)
            if have_metaflow:
                mf.append(run_metaflow(args.metaflow, flow_file, work))
            elapsed, run_id, datastore = run_sfncompile(flow_file, work, args.max_workers)
            ours.append(elapsed)
            warm.append(run_sfncompile(flow_file, work, args.max_workers, fresh=True)[0])
            if args.before:
                before.append(run_sfncompile(flow_file, work, args.max_workers, root=args.before.resolve(),
                                             label="-before")[0])
            if last:
                shutil.rmtree(last[0], ignore_errors=True)  # (Metaflow's datastore is large: slow)
            last = (work, run_id, datastore)
        work, run_id, datastore = last
        entry = {
            "sfncompile_median_s": statistics.median(ours), "sfncompile_runs_s": ours,
            "fresh_process_median_s": statistics.median(warm), "fresh_process_runs_s": warm,
            "metaflow_median_s": statistics.median(mf) if mf else None, "metaflow_runs_s": mf,
            "metaflow_reference_s": reference,
            "breakdown": task_breakdown(datastore, flow, run_id),
            "task_startup": measure_task_startup(datastore, flow, run_id),
        }
        if before:
            entry["before_median_s"] = statistics.median(before)
            entry["before_runs_s"] = before
        base = entry["metaflow_median_s"] or reference
        entry["speedup"] = base / entry["sfncompile_median_s"]
        entry["speedup_fresh_process"] = base / entry["fresh_process_median_s"]
        entry["goal"] = GOALS[name]
        report["flows"][name] = entry
        shutil.rmtree(work, ignore_errors=True)
        print(f"{name:<11} metaflow {base:6.2f} s   sfncompile {entry['sfncompile_median_s']:6.2f} s   "
              f"x{entry['speedup']:.1f} (goal x{GOALS[name]:.0f})   --no-warm-start "
              f"{entry['fresh_process_median_s']:6.2f} s x{entry['speedup_fresh_process']:.1f}   "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)
        if before:
            print(f"            before ({args.before}): {entry['before_median_s']:6.2f} s x{base / entry['before_median_s']:.1f}"
                  f"   after/before {entry['sfncompile_median_s'] / entry['before_median_s']:.2f}", flush=True)
        print(f"            per task: runtime inside {entry['breakdown']['runtime_inside_ms']:.0f} ms; standalone "
              f"task {entry['task_startup']['whole_task_ms']:.0f} ms = python start "
              f"{entry['task_startup']['python_start_ms']:.0f} ms + runtime imports "
              f"{entry['task_startup']['python_plus_runtime_imports_ms'] - entry['task_startup']['python_start_ms']:.0f}"
              f" ms + the rest", flush=True)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
