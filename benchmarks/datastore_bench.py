"""Datastore benchmark: sfncompile's runtime datastore vs Metaflow 2.19's, side by side.

Run on demand (not in CI):

    cd /work/main && PYTHONPATH=/work/main:/work/main/runtime /work/venv/bin/python benchmarks/datastore_bench.py \
        [--metaflow-python /work/mfvenv/bin/python] [--runs 5] [--sizes 64,1024]

Every measurement runs in a fresh subprocess, on the local datastore of each
system, in a temporary directory on the same disk. Peak memory is Linux's
VmHWM (reset just before the operation) minus the interpreter's RSS before
the artifact existed, divided by the artifact size: the artifact itself
counts 1.0. Reported: medians of --runs runs.

* store / load of a random-bytes artifact (64 MiB, 1 GiB) and of a
  compressible one (64 MiB of CSV-like text): wall time, and the process's peak
  RSS divided by the artifact size (the artifact itself counts as 1.0);
* a step that reads 1 of 100 artifacts (1 MiB each): open the task's data and
  read one, in-process (both), plus our whole task as a subprocess;
* task start-up: ``import metaflow`` vs our runner's imports, and a whole
  no-op task through the bootstrap.
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
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "runtime"

MAKE_VALUE = """
import gc, os
def rss_kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
def reset_peak():
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM, the peak RSS, to the current RSS
def make(kind, mib):
    if kind == "random":
        return os.urandom(mib << 20)
    row = 0
    parts = []
    size = 0
    while size < (mib << 20):
        line = b"%08d,user_%05d,%0.3f,category_%d,2024-01-%02d\\n" % (row, row % 99991, (row % 1000) / 7.0, row % 13, row % 28 + 1)
        parts.append(line)
        size += len(line)
        row += 1
    return b"".join(parts)[: mib << 20]
"""

OURS_STORE = MAKE_VALUE + """
import json, resource, sys, time
sys.path.insert(0, RUNTIME)
from sfncompile_runtime.datastore import Datastore
store = Datastore(ROOTDIR, "BenchFlow")
base = rss_kib("VmRSS")
value = make(KIND, MIB)
reset_peak()
t = time.perf_counter()
ref = store.put_artifact(value)
elapsed = time.perf_counter() - t
json.dump(ref, open(REFFILE, "w"))
print(json.dumps({"seconds": elapsed, "peak_kib": rss_kib("VmHWM") - base, "stored": ref["stored"]}))
"""

OURS_LOAD = MAKE_VALUE + """
import json, resource, sys, time
sys.path.insert(0, RUNTIME)
from sfncompile_runtime.datastore import Datastore
ref = json.load(open(REFFILE))
store = Datastore(ROOTDIR, "BenchFlow")
base = rss_kib("VmRSS")
reset_peak()
t = time.perf_counter()
value = store.load_artifact(ref)
elapsed = time.perf_counter() - t
assert len(value) == MIB << 20
print(json.dumps({"seconds": elapsed, "peak_kib": rss_kib("VmHWM") - base}))
"""

MF_STORE = MAKE_VALUE + """
import json, resource, sys, time
from metaflow.datastore import FlowDataStore
from metaflow.plugins.datastores.local_storage import LocalStorage
fds = FlowDataStore("BenchFlow", storage_impl=LocalStorage, ds_root=ROOTDIR)
base = rss_kib("VmRSS")
value = make(KIND, MIB)
reset_peak()
t = time.perf_counter()
tds = fds.get_task_datastore("1", "start", "1", attempt=0, mode="w")
tds.init_task()
tds.save_artifacts(iter([("x", value)]))
tds.done()
elapsed = time.perf_counter() - t
import glob, os
stored = sum(os.path.getsize(p) for p in glob.glob(os.path.join(ROOTDIR, "BenchFlow", "data", "*", "*")))
print(json.dumps({"seconds": elapsed, "peak_kib": rss_kib("VmHWM") - base, "stored": stored}))
"""

MF_LOAD = MAKE_VALUE + """
import json, resource, sys, time
from metaflow.datastore import FlowDataStore
from metaflow.plugins.datastores.local_storage import LocalStorage
fds = FlowDataStore("BenchFlow", storage_impl=LocalStorage, ds_root=ROOTDIR)
base = rss_kib("VmRSS")
reset_peak()
t = time.perf_counter()
tds = fds.get_task_datastore("1", "start", "1", mode="r")
value = tds["x"]
elapsed = time.perf_counter() - t
assert len(value) == MIB << 20
print(json.dumps({"seconds": elapsed, "peak_kib": rss_kib("VmHWM") - base}))
"""

OURS_ONE_OF_100_SETUP = """
import json, os, sys
sys.path.insert(0, RUNTIME)
from sfncompile_runtime.datastore import Datastore
store = Datastore(ROOTDIR, "BenchFlow")
refs = {f"a{i}": store.put_artifact(os.urandom(1 << 20)) for i in range(100)}
store.write_json("BenchFlow/runs/r1/start/0/0/record.json", {"status": "ok", "attempt": 0, "artifacts": refs})
"""

OURS_ONE_OF_100 = """
import json, sys, time
t = time.perf_counter()
sys.path.insert(0, RUNTIME)
from sfncompile_runtime.datastore import Datastore
store = Datastore(ROOTDIR, "BenchFlow")
record = store.latest_record("r1", "start", "0")
value = store.load_artifact(record["artifacts"]["a7"])
assert len(value) == 1 << 20
print(json.dumps({"seconds": time.perf_counter() - t}))
"""

MF_ONE_OF_100_SETUP = """
import os
from metaflow.datastore import FlowDataStore
from metaflow.plugins.datastores.local_storage import LocalStorage
fds = FlowDataStore("BenchFlow", storage_impl=LocalStorage, ds_root=ROOTDIR)
tds = fds.get_task_datastore("1", "start", "1", attempt=0, mode="w")
tds.init_task()
tds.save_artifacts(iter([(f"a{i}", os.urandom(1 << 20)) for i in range(100)]))
tds.done()
"""

MF_ONE_OF_100 = """
import json, time
t = time.perf_counter()
from metaflow.datastore import FlowDataStore
from metaflow.plugins.datastores.local_storage import LocalStorage
fds = FlowDataStore("BenchFlow", storage_impl=LocalStorage, ds_root=ROOTDIR)
tds = fds.get_task_datastore("1", "start", "1", mode="r")
value = tds["a7"]
assert len(value) == 1 << 20
print(json.dumps({"seconds": time.perf_counter() - t}))
"""


def run_script(python: str, source: str, **constants) -> dict:
    header = "".join(f"{k} = {v!r}\n" for k, v in constants.items())
    proc = subprocess.run([python, "-c", header + textwrap.dedent(source)], capture_output=True, text=True,
                          env={**os.environ, "METAFLOW_DEFAULT_DATASTORE": "local"})
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark script failed:\n{proc.stderr[-3000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def wall(command: list[str], env: dict | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - t


def median(values):
    return statistics.median(values)


def bench_artifacts(mf_python: str, runs: int, kind: str, mib: int) -> dict:
    out = {}
    for system, store_src, load_src, python in (("sfncompile", OURS_STORE, OURS_LOAD, sys.executable),
                                                ("metaflow", MF_STORE, MF_LOAD, mf_python)):
        stores, loads = [], []
        for _ in range(runs):
            tmp = tempfile.mkdtemp(prefix="dsbench-", dir=os.environ.get("BENCH_DIR"))
            try:
                consts = dict(RUNTIME=str(RUNTIME), ROOTDIR=tmp, KIND=kind, MIB=mib, REFFILE=os.path.join(tmp, "ref.json"))
                stores.append(run_script(python, store_src, **consts))
                subprocess.run(["sync"], check=False)
                loads.append(run_script(python, load_src, **consts))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        size_kib = mib << 10
        out[system] = {
            "store_s": median(s["seconds"] for s in stores),
            "load_s": median(s["seconds"] for s in loads),
            "store_peak_x": median(s["peak_kib"] for s in stores) / size_kib,
            "load_peak_x": median(s["peak_kib"] for s in loads) / size_kib,
            "stored_mib": (stores[0].get("stored") or 0) / 2**20,
        }
    return out


def bench_one_of_100(mf_python: str, runs: int) -> dict:
    out = {}
    for system, setup, read, python in (("sfncompile", OURS_ONE_OF_100_SETUP, OURS_ONE_OF_100, sys.executable),
                                        ("metaflow", MF_ONE_OF_100_SETUP, MF_ONE_OF_100, mf_python)):
        tmp = tempfile.mkdtemp(prefix="dsbench-")
        try:
            consts = dict(RUNTIME=str(RUNTIME), ROOTDIR=tmp)
            run_script(python, setup, **consts)
            out[system] = median(run_script(python, read, **consts)["seconds"] for _ in range(runs))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def bench_startup(mf_python: str, runs: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    import_metaflow = median(wall([mf_python, "-c", "import metaflow"], env) for _ in range(runs))
    bare = median(wall([sys.executable, "-c", "pass"], env) for _ in range(runs))
    runtime_imports = median(wall([sys.executable, "-c",
                                   f"import sys; sys.path.insert(0, {str(RUNTIME)!r}); "
                                   "import sfncompile_runtime.main, sfncompile_runtime.context, "
                                   "sfncompile_runtime.api, sfncompile_runtime.logcapture"], env) for _ in range(runs))
    task = _task_times(runs)
    return {"python -c pass": bare, "import metaflow": import_metaflow, "runtime imports": runtime_imports, **task}


FLOW = '''
from sfncompile import FlowSpec, step


class StartupFlow(FlowSpec):
    @step
    def start(self):
        for i in range(100):
            setattr(self, f"a{i}", bytes(1 << 20))
        self.next(self.read_one)

    @step
    def read_one(self):
        self.n = len(self.a7)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def _task_times(runs: int) -> dict:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(RUNTIME))
    from sfncompile.package import build_code_package, store_code_package
    from sfncompile.pipeline import load_graph
    from sfncompile_runtime.bootstrap import BOOTSTRAP_SOURCE

    tmp = Path(tempfile.mkdtemp(prefix="dsbench-task-"))
    try:
        (tmp / "flow").mkdir()
        flow = tmp / "flow" / "startup_flow.py"
        flow.write_text(FLOW)
        graph = load_graph(flow)
        package = build_code_package(graph, flow)
        url = store_code_package(package, str(tmp / "ds"), graph.name)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update({"SFNCOMPILE_CODE_URL": url, "SFNCOMPILE_CODE_SHA256": package.sha256,
                    "SFNCOMPILE_DATASTORE": str(tmp / "ds"), "SFNCOMPILE_SIDE_CHANNEL": f"sqlite:///{tmp}/side.db",
                    "SFNCOMPILE_CODE_CACHE": str(tmp / "cache"), "SFNCOMPILE_RUN_ID": "r1",
                    "SFNCOMPILE_INDEX_PATH": "", "SFNCOMPILE_PARAMETERS": "{}"})
        command = [sys.executable, "-c", BOOTSTRAP_SOURCE, "step"]
        wall(command + ["start"], env)  # also extracts the package once
        read_one = median(wall(command + ["read_one"], env) for _ in range(runs))
        end = median(wall(command + ["end"], env) for _ in range(runs))
        return {"task reading 1 of 100 (whole process)": read_one, "no-op task (whole process)": end}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metaflow-python", default="/work/mfvenv/bin/python")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="64,1024", help="random artifact sizes in MiB")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    results: dict = {"runs": args.runs}
    print(f"medians of {args.runs} runs; peak = (peak RSS - interpreter RSS) / artifact size\n")
    print(f"{'artifact':<22}{'system':<12}{'store s':>9}{'load s':>9}{'store pk':>10}{'load pk':>9}{'stored MiB':>12}")
    cases = [("random", int(m)) for m in args.sizes.split(",")] + [("compressible", 64)]
    for kind, mib in cases:
        res = bench_artifacts(args.metaflow_python, args.runs, kind, mib)
        results[f"{kind}-{mib}MiB"] = res
        for system, r in res.items():
            print(f"{kind + ' ' + str(mib) + ' MiB':<22}{system:<12}{r['store_s']:>9.2f}{r['load_s']:>9.2f}"
                  f"{r['store_peak_x']:>9.2f}x{r['load_peak_x']:>8.2f}x{r['stored_mib']:>12.1f}")
        ours, theirs = res["sfncompile"], res["metaflow"]
        print(f"{'':<22}{'speed-up':<12}{theirs['store_s'] / ours['store_s']:>8.1f}x{theirs['load_s'] / ours['load_s']:>8.1f}x")
        sys.stdout.flush()
    lazy = bench_one_of_100(args.metaflow_python, args.runs)
    results["read 1 of 100"] = lazy
    print(f"\nread 1 of 100 artifacts (open task data + load one, in a fresh process, s): "
          f"sfncompile {lazy['sfncompile']:.3f}  metaflow {lazy['metaflow']:.3f}")
    startup = bench_startup(args.metaflow_python, args.runs)
    results["startup"] = startup
    print("\nstart-up (wall s, whole processes):")
    for name, value in startup.items():
        print(f"  {name:<40}{value:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
