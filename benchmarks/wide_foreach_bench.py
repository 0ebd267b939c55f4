"""Wide foreaches locally: ``sfncompile run`` (default mode) against Metaflow 2.19, with peak memory.

A foreach over N items (1,000 and 10,000 by default: N + 3 tasks), each item
doubled, summed in the join. Both sides get ``--max-num-splits N`` (Metaflow's
cap is 100 by default, and so is ours). Each round runs Metaflow then
sfncompile back to back (paired), from cold datastores; the report gives the
median wall time, the ratio, and the peak resident memory of the process that
runs the flow (the executor: ``sfncompile run``; Metaflow's ``flow.py run``)
read from ``/proc/<pid>/status`` (VmHWM) while it runs. Metaflow on 1,000
items takes minutes per round, so it runs only for widths up to
``--metaflow-max`` (default 1,000) and ``--metaflow-rounds`` times.

    python benchmarks/wide_foreach_bench.py [--widths 1000,10000] [--rounds 5] [--metaflow-rounds 3]

Needs a Metaflow venv (default /work/mfvenv) for the paired column. Not run in CI.
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

from local_run_bench import foreach_flow  # the same flow as the paired local runs, wider

ROOT = Path(__file__).resolve().parents[1]


def _peak_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float | None, str]:
    """(seconds, peak RSS of the process in MiB, stdout); fails loudly.

    Output goes to files, not pipes: a 1,000-task run prints more than a pipe holds, and a
    pipe nobody drains while we poll /proc blocks the run for ever (this froze Metaflow's
    runs here, which were then reported as "did not finish")."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out_file, stderr=err_file, text=True)
        peak = None
        # VmHWM only grows: the last reading before the process ends is (close to) its peak.
        while proc.poll() is None:
            value = _peak_kib(proc.pid)
            if value is not None:
                peak = value
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{err[-2000:]}")
    return elapsed, (peak / 1024 if peak else None), out


def run_metaflow(python: str, flow_file: Path, work: Path, width: int):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update({"METAFLOW_HOME": str(work / "mfhome"), "USERNAME": "bench", "METAFLOW_USER": "bench",
                "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(work / "mfds")})
    return timed([python, str(flow_file), "--no-pylint", "run", "--max-num-splits", str(width)], work, env)


def run_sfncompile(flow_file: Path, work: Path, width: int):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "runtime")])
    return timed([sys.executable, "-m", "sfncompile.cli.main", "run", str(flow_file), "--datastore",
                  str(work / "sfnds"), "--max-num-splits", str(width), "--quiet"], work, env)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="1000,10000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--metaflow", default="/work/mfvenv/bin/python")
    parser.add_argument("--metaflow-rounds", type=int, default=3)
    parser.add_argument("--metaflow-max", type=int, default=1000, help="widest foreach Metaflow runs")
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args(argv)
    have_metaflow = Path(args.metaflow).exists()
    report = {"cpus": os.cpu_count(), "widths": {}}
    for width in [int(w) for w in args.widths.split(",")]:
        ours, ours_mem, mf, mf_mem = [], [], [], []
        for round_ in range(args.rounds):
            work = Path(tempfile.mkdtemp(prefix=f"bench-wide{width}-"))
            try:
                (work / "flow").mkdir()
                flow_file = work / "flow" / f"wide{width}.py"
                flow_file.write_text(foreach_flow(width))
                if have_metaflow and width <= args.metaflow_max and round_ < args.metaflow_rounds:
                    seconds, peak, _ = run_metaflow(args.metaflow, flow_file, work, width)
                    mf.append(seconds)
                    mf_mem.append(peak)
                seconds, peak, out = run_sfncompile(flow_file, work, width)
                ours.append(seconds)
                ours_mem.append(peak)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        entry = {"tasks": width + 3, "sfncompile_median_s": statistics.median(ours), "sfncompile_runs_s": ours,
                 "sfncompile_peak_mib": max(m for m in ours_mem if m) if any(ours_mem) else None,
                 "metaflow_median_s": statistics.median(mf) if mf else None, "metaflow_runs_s": mf,
                 "metaflow_peak_mib": max(m for m in mf_mem if m) if any(mf_mem) else None}
        entry["per_task_ms"] = 1000 * entry["sfncompile_median_s"] / entry["tasks"]
        entry["speedup"] = entry["metaflow_median_s"] / entry["sfncompile_median_s"] if mf else None
        report["widths"][width] = entry
        line = (f"foreach {width:>6} items: sfncompile {entry['sfncompile_median_s']:7.1f} s "
                f"({entry['per_task_ms']:.0f} ms/task, executor peak {entry['sfncompile_peak_mib'] or 0:.0f} MiB)")
        if mf:
            line += (f"   metaflow {entry['metaflow_median_s']:7.1f} s (peak {entry['metaflow_peak_mib'] or 0:.0f} MiB)"
                     f"   x{entry['speedup']:.1f} (goal x10)")
        print(line + f"   (load average {os.getloadavg()[0]:.1f})", flush=True)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
