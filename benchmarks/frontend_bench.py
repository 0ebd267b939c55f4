"""Front end + lint time against Metaflow's own graph construction, side by side.

For each example flow and for generated 500-step flows, measures

* sfncompile, in process: ``parse_text`` (libcst front end + graph passes +
  lint) on the source text, and ``run_lint`` alone on the built graph;
* Metaflow, in process (its venv, a subprocess that imports the flow once):
  ``FlowGraph(FlowClass)`` + ``linter.run_checks(graph)``, which is what
  ``python flow.py check`` does before printing;
* both cold, as a user runs them: ``sfncompile check FLOW`` and
  ``python flow.py --no-pylint check`` (interpreter start and imports included).

Medians of ``--runs`` runs (default 7, at least 5); in-process numbers are
CPU time (``time.process_time``) on both sides, because wall time on a shared
machine measures the neighbours; the cold command-line numbers are wall time.
``--differential N`` also lints N random flows with both linters and reports
how often Metaflow's (first) finding is among ours, at the same line. Run on demand:

    PYTHONPATH=.:runtime /work/venv/bin/python benchmarks/frontend_bench.py [--runs 7] [--differential 1000]
        [--mf-python /work/mfvenv/bin/python] [--no-cold] [--only-differential]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "runtime")]

# What runs inside Metaflow's venv: import the flow module once, then time
# graph construction + lint; print the per-run seconds as JSON.
METAFLOW_SNIPPET = r"""
import importlib.util, json, sys, time
sys.setrecursionlimit(10000)
from metaflow.flowspec import FlowSpec
from metaflow.graph import FlowGraph
from metaflow.lint import linter
path, runs = sys.argv[1], int(sys.argv[2])
spec = importlib.util.spec_from_file_location("bench_flow", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
flow = next(v for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, FlowSpec) and v is not FlowSpec)
times = []
for _ in range(runs):
    t0 = time.process_time()
    graph = FlowGraph(flow)
    linter.run_checks(graph)
    times.append(time.process_time() - t0)
# From source text, like sfncompile: compile + execute the module (class
# creation, decorators) + graph + lint.
import types
source = open(path).read()
from_source = []
for i in range(runs):
    t0 = time.process_time()
    code = compile(source, path, "exec")
    mod = types.ModuleType(f"bench_flow_{i}")
    mod.__file__ = path
    sys.modules[mod.__name__] = mod
    exec(code, mod.__dict__)
    cls = next(v for v in vars(mod).values()
               if isinstance(v, type) and issubclass(v, FlowSpec) and v is not FlowSpec)
    linter.run_checks(FlowGraph(cls))
    from_source.append(time.process_time() - t0)
print(json.dumps([times, from_source]))
"""


def generate_flow(n_steps: int, diamonds: int = 0, foreaches: int = 0) -> str:
    """A valid flow of exactly ``n_steps`` steps: a chain with split/join
    diamonds (3 extra steps each) and foreach blocks (2 extra steps each)
    spread evenly along it."""
    blocks = ["diamond", "foreach"] * min(diamonds, foreaches)
    blocks += ["diamond"] * (diamonds - min(diamonds, foreaches)) + ["foreach"] * (foreaches - min(diamonds, foreaches))
    chain = n_steps - 2 - 3 * diamonds - 2 * foreaches  # plain steps besides start and end
    if chain < len(blocks):
        raise ValueError("too many blocks for the step budget")
    every = chain // (len(blocks) + 1) if blocks else chain + 1
    steps = []  # (name, args, body lines, self.next line)
    name, args, body = "start", "self", ["self.x = 0"]
    for i in range(chain):
        if blocks and i and i % every == 0:
            kind, k = blocks.pop(0), i
            if kind == "diamond":
                a, b, j = f"d{k}_a", f"d{k}_b", f"d{k}_join"
                steps.append((name, args, body, f"self.next(self.{a}, self.{b})"))
                steps.append((a, "self", ["self.y = 1"], f"self.next(self.{j})"))
                steps.append((b, "self", ["self.y = 2"], f"self.next(self.{j})"))
            else:
                inner, j = f"f{k}_body", f"f{k}_join"
                steps.append((name, args, body + ["self.items = [1, 2, 3]"],
                              f"self.next(self.{inner}, foreach=\"items\")"))
                steps.append((inner, "self", ["self.y = self.input"], f"self.next(self.{j})"))
            name, args, body = j, "self, inputs", ["self.x = inputs[0].x"]
            steps.append((name, args, body, f"self.next(self.s{i})"))
        else:
            steps.append((name, args, body, f"self.next(self.s{i})"))
        name, args, body = f"s{i}", "self", ["self.x += 1"]
    steps.append((name, args, body, "self.next(self.end)"))
    lines = ["from metaflow import FlowSpec, step", "", "", f"class Generated{n_steps}Flow(FlowSpec):"]
    for step_name, step_args, step_body, nxt in steps:
        lines += ["    @step", f"    def {step_name}({step_args}):", *[f"        {x}" for x in step_body],
                  f"        {nxt}", ""]
    lines += ["    @step", "    def end(self):", "        pass", "", "",
              "if __name__ == \"__main__\":", f"    Generated{n_steps}Flow()", ""]
    return "\n".join(lines)


# -- agreement with Metaflow's linter on random flows ---------------------------

METAFLOW_LINT_SNIPPET = r"""
import glob, importlib.util, json, sys
sys.setrecursionlimit(5000)
from metaflow.flowspec import FlowSpec
from metaflow.graph import FlowGraph
from metaflow.lint import linter, LintWarn
out = {}
for path in sorted(glob.glob(sys.argv[1] + "/*.py")):
    try:
        spec = importlib.util.spec_from_file_location("m_" + path.split("/")[-1][:-3], path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        cls = next(v for v in vars(mod).values()
                   if isinstance(v, type) and issubclass(v, FlowSpec) and v is not FlowSpec)
        linter.run_checks(FlowGraph(cls))
        out[path] = None
    except LintWarn as exc:
        out[path] = [str(exc), getattr(exc, "line_no", None)]
    except Exception as exc:  # Metaflow's own crashes on odd graphs
        out[path] = ["crash " + type(exc).__name__, None]
print(json.dumps(out))
"""

# Metaflow message fragment -> our rule for the same problem.
METAFLOW_MESSAGES = [
    ("is a reserved word", "SFN101"), ("must have exactly one start", "SFN103"),
    ("exactly one end", "SFN104"), ("Ambiguous start", "SFN105"), ("Ambiguous end", "SFN105"),
    ("start step *", "SFN106"), ("has outgoing transitions", "SFN107"),
    ("should not have a self.next", "SFN107"), ("should not be a join step", "SFN108"),
    ("invalid name", "SFN102"), ("too many arguments", "SFN109"), ("is both a join step", "SFN110"),
    ("missing the 'self'", "SFN111"), ("missing a self.next", "SFN112"), ("invalid self.next", "SFN113"),
    ("to an unknown step", "SFN114"), ("There is a loop", "SFN115"), ("is unreachable", "SFN116"),
    ("was reached before a split", "SFN117"), ("incorrect number of steps", "SFN118"),
    ("not preceded by a split", "SFN119"), ("unrelated splits", "SFN120"),
    ("switch split but defines", "SFN121"), ("no condition variable", "SFN122"),
    ("no switch cases", "SFN123"), ("has no children", "SFN124"), ("conditional path cannot lead", "SFN128"),
]


def random_flow(rng, index: int) -> str:
    """A small random flow, mostly forward edges, every transition shape."""
    names = ["start"] + [f"s{j}" for j in range(rng.randint(1, 5))] + ["end"]
    lines = ["from metaflow import FlowSpec, step", "", "", f"class Random{index}Flow(FlowSpec):"]
    for pos, name in enumerate(names):
        args = "self, inputs" if name not in ("start", "end") and rng.random() < 0.3 else "self"
        body, nxt = [], None
        if name != "end":
            later = names[pos + 1:] if rng.random() < 0.97 else names[1:]
            pick2 = lambda: rng.sample(later, 2) if len(set(later)) > 1 else [later[0], later[0]]
            kind = rng.choices(["linear", "split", "foreach", "switch"], [5, 2, 2, 1])[0]
            if kind == "linear":
                nxt = f"self.next(self.{rng.choice(later)})"
            elif kind == "split":
                a, b = pick2()
                nxt = f"self.next(self.{a}, self.{b})"
            elif kind == "foreach":
                body.append("self.items = [1, 2]")
                nxt = f"self.next(self.{rng.choice(later)}, foreach=\"items\")"
            else:
                body.append("self.k = \"a\"")
                a, b = pick2()
                nxt = f"self.next({{\"a\": self.{a}, \"b\": self.{b}}}, condition=\"k\")"
        lines += ["    @step", f"    def {name}({args}):", *[f"        {x}" for x in body],
                  f"        {nxt or 'pass'}", ""]
    return "\n".join(lines) + "\n"


def differential(count: int, seed: int, mf_python: str) -> None:
    """Metaflow stops at its first problem: is that problem among ours, at the same line?"""
    import random
    from collections import Counter

    from sfncompile.pipeline import parse

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            Path(tmp, f"flow{i:05d}.py").write_text(random_flow(rng, i))
        out = subprocess.run([mf_python, "-c", METAFLOW_LINT_SNIPPET, tmp], capture_output=True, text=True,
                             timeout=3600, env=_mf_env())
        verdicts = json.loads(out.stdout.strip().splitlines()[-1])
        tally: Counter = Counter()
        for path, verdict in sorted(verdicts.items()):
            _, diagnostics = parse(path)
            ours = {(d.rule, d.span.line) for d in diagnostics if d.severity == "error"}
            if verdict is None:
                tally["both clean" if not ours else "metaflow clean, sfncompile errors"] += 1
                continue
            message, line = verdict
            rule = next((r for fragment, r in METAFLOW_MESSAGES if fragment in message), None)
            if rule is None:
                tally["metaflow crashed, sfncompile reports" if ours else "metaflow crashed, sfncompile clean"] += 1
            elif (rule, line) in ours or (not line and rule in {r for r, _ in ours}):
                tally["same rule, same line"] += 1
            elif rule in {r for r, _ in ours}:
                tally[f"same rule, other line ({rule})"] += 1
            elif ours:
                tally[f"other rules ({rule} -> {', '.join(sorted({r for r, _ in ours}))})"] += 1
            else:
                tally[f"metaflow {rule}, sfncompile clean"] += 1
    print(f"\nagreement with Metaflow's linter on {count} random flows (seed {seed}):")
    for key, n in tally.most_common():
        print(f"  {n:>6}  {key}")


def median_ms(values) -> float:
    return 1000 * statistics.median(values)


def time_ours(source: str, name: str, runs: int) -> tuple[float, float, int]:
    from sfncompile.lint import run_lint
    from sfncompile.pipeline import parse_text

    parse_text(source, name)  # warm imports and caches
    total, lint_only = [], []
    graph = None
    for _ in range(runs):
        t0 = time.process_time()
        graph, diagnostics = parse_text(source, name)
        total.append(time.process_time() - t0)
        errors = [d for d in diagnostics if d.severity == "error"]
        assert not errors, [d.format() for d in errors][:5]
        t0 = time.process_time()
        run_lint(graph)
        lint_only.append(time.process_time() - t0)
    return median_ms(total), median_ms(lint_only), len(graph.steps)


def time_metaflow(path: Path, runs: int, mf_python: str) -> tuple[float | None, float | None]:
    try:
        out = subprocess.run([mf_python, "-c", METAFLOW_SNIPPET, str(path), str(runs)],
                             capture_output=True, text=True, timeout=600, env=_mf_env())
    except subprocess.TimeoutExpired:
        return None, None
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or [""])[-1]
        print(f"  (metaflow refuses {path.name}: {last[:110]})", file=sys.stderr)
        return None, None
    graph_only, from_source = json.loads(out.stdout.strip().splitlines()[-1])
    return median_ms(graph_only), median_ms(from_source)


def _mf_env():
    env = dict(os.environ)
    env.setdefault("USERNAME", "bench")
    env["METAFLOW_DEFAULT_DATASTORE"] = "local"
    env.pop("PYTHONPATH", None)
    return env


def time_cold(cmd: list[str], runs: int, env=None) -> float | None:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        times.append(time.perf_counter() - t0)
        if out.returncode != 0:
            return None
    return median_ms(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--mf-python", default="/work/mfvenv/bin/python")
    parser.add_argument("--no-cold", action="store_true", help="skip the command-line (cold) timings")
    parser.add_argument("--differential", type=int, metavar="N", default=0,
                        help="also lint N random flows with both linters and compare their findings")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--only-differential", action="store_true")
    args = parser.parse_args(argv)
    if args.only_differential:
        differential(args.differential or 1000, args.seed, args.mf_python)
        return
    runs = max(5, args.runs)
    ours_env = dict(os.environ, PYTHONPATH=f"{ROOT}:{ROOT / 'runtime'}")

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        cases = []
        for path in sorted((ROOT / "examples").glob("*.py")):
            source = path.read_text()
            mf_copy = tmpdir / path.name
            mf_copy.write_text(source.replace("from sfncompile import", "from metaflow import"))
            cases.append((path.stem, source, path, mf_copy))
        for label, kwargs in (("generated_500_linear", {}),
                              ("generated_500_mixed", {"diamonds": 6, "foreaches": 6})):
            source = generate_flow(500, **kwargs)
            gen = tmpdir / f"{label}.py"
            gen.write_text(source)
            cases.append((label, source, gen, gen))

        header = (f"{'flow':<24}{'steps':>6}  {'sfncompile':>11}{'(lint)':>9}  {'mf graph':>9}  "
                  f"{'mf src':>8}  {'ratio':>6}  {'sfn check':>10}  {'mf check':>9}")
        print(f"medians of {runs} runs, milliseconds; in-process columns are CPU time (process_time: the "
              "machine is shared, wall time swings with load), cold columns wall time.\nIn process: sfncompile = source text -> libcst -> IR -> "
              "lint (lint alone in brackets);\nmf graph = FlowGraph(cls) + linter.run_checks on an imported "
              "class; mf src = compile + exec the module + graph + lint.\n"
              "Cold = the whole command: `sfncompile check F` vs `python F --no-pylint check`.\n")
        print(header)
        print("-" * len(header))
        for label, source, ours_path, mf_path in cases:
            ours_ms, lint_ms, n_steps = time_ours(source, ours_path.name, runs)
            mf_ms, mf_src_ms = time_metaflow(mf_path, runs, args.mf_python)
            if args.no_cold:
                sfn_cold = mf_cold = None
            else:
                sfn_cold = time_cold([sys.executable, "-c", "from sfncompile.cli.main import main; main()",
                                      "check", str(ours_path)], runs, env=ours_env)
                mf_cold = None if label == "retrain_until_good" else time_cold(
                    [args.mf_python, str(mf_path), "--no-pylint", "check"], runs, env=_mf_env())
            ratio = f"{mf_src_ms / ours_ms:5.2f}x" if mf_src_ms else "   n/a"
            fmt = lambda v: f"{v:.1f}" if v is not None else "n/a"
            print(f"{label:<24}{n_steps:>6}  {ours_ms:>11.1f}{'(' + fmt(lint_ms) + ')':>9}  {fmt(mf_ms):>9}  "
                  f"{fmt(mf_src_ms):>8}  {ratio:>6}  {fmt(sfn_cold):>10}  {fmt(mf_cold):>9}", flush=True)
        print("\nratio = mf src / sfncompile (>1: sfncompile faster). "
              "retrain_until_good loops through a switch to an earlier step, which Metaflow's lint "
              "rejects, so its cold check is n/a.")
    if args.differential:
        differential(args.differential, args.seed, args.mf_python)


if __name__ == "__main__":
    main()
