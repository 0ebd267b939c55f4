"""Front end + lint time against the number of steps: is it a straight line?

For 250, 500, 1,000 and 2,000 steps and five shapes — a chain (frontend_bench's
generator), a chain with split/join diamonds and foreaches, one wide static
split, many foreaches, and "rich" steps (three decorators, loops, try/with,
20 parameters: ~30 lines per step) — measures ``parse_text`` (libcst front end
+ graph passes + lint) in process, twice, interleaved: libcst parsing the whole
file at once (before: what the front end did) and piece by piece
(``sfncompile/frontend/pieces.py``, the default now). Prints milliseconds and
milliseconds per step; a straight line has a flat ms/step column. CPU time
(``time.process_time``), medians of ``--runs``; the machine's load average is
printed with the numbers because a loaded machine inflates both columns.

    PYTHONPATH=.:runtime .venv/bin/python benchmarks/frontend_scaling_bench.py [--runs 3] [--steps 250,500,1000,2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "runtime"), str(ROOT / "benchmarks")]
sys.setrecursionlimit(20000)

from frontend_bench import generate_flow  # noqa: E402


def wide_split(n: int) -> str:
    k = n - 3
    lines = ["from metaflow import FlowSpec, step", "", "", f"class Wide{n}Flow(FlowSpec):",
             "    @step", "    def start(self):",
             "        self.next(" + ", ".join(f"self.b{i}" for i in range(k)) + ")", ""]
    for i in range(k):
        lines += ["    @step", f"    def b{i}(self):", f"        self.v = {i}", "        self.next(self.join)", ""]
    lines += ["    @step", "    def join(self, inputs):", "        self.next(self.end)", "",
              "    @step", "    def end(self):", "        pass", ""]
    return "\n".join(lines)


def nested(n: int, foreach: bool = False) -> str:
    """Splits (or foreaches) nested inside each other as deep as ``n`` steps allow: each level
    opens in ``o<i>`` and closes in its join ``j<i>``, innermost first."""
    depth = (n - 3) // (2 if foreach else 3)
    steps = [("start", "self", "self.next(self.o0)")]
    for i in range(depth):
        if foreach:
            steps.append((f"o{i}", "self", f"self.items = [1, 2]\n        self.next(self.o{i + 1}, foreach='items')"))
        else:
            steps.append((f"o{i}", "self", f"self.next(self.o{i + 1}, self.b{i})"))
            steps.append((f"b{i}", "self", f"self.next(self.j{i})"))
    steps.append((f"o{depth}", "self", f"self.next(self.j{depth - 1})"))
    for i in reversed(range(depth)):
        steps.append((f"j{i}", "self, inputs", f"self.next(self.j{i - 1})" if i else "self.next(self.end)"))
    lines = ["from metaflow import FlowSpec, step", "", "", f"class Nested{n}Flow(FlowSpec):"]
    for name, args, body in steps:
        lines += ["    @step", f"    def {name}({args}):", f"        {body}", ""]
    lines += ["    @step", "    def end(self):", "        pass", ""]
    return "\n".join(lines)


def rich(n: int) -> str:
    lines = ["from metaflow import FlowSpec, step, Parameter, retry, resources, environment", "import os, json", "",
             "LIMIT = 10", "", f"class Rich{n}Flow(FlowSpec):"]
    lines += [f"    p{p} = Parameter('p{p}', default={p}, help='param {p}')" for p in range(20)] + [""]
    names = ["start"] + [f"s{i}" for i in range(n - 2)] + ["end"]
    for i, name in enumerate(names):
        lines += ["    @retry(times=2)", "    @resources(cpu=1, memory=4000)",
                  f"    @environment(vars={{'K': 'v{i}'}})", "    @step", f"    def {name}(self):",
                  f'        """Step {i}."""', f"        self.v{i % 7} = self.p{i % 20} + LIMIT",
                  "        for k in range(3):", "            if k % 2:",
                  "                self.acc = getattr(self, 'acc', 0) + k", "            else:",
                  "                print(k, json.dumps({'k': k}))", "        try:",
                  "            self.z = os.environ.get('K')", "        except Exception as e:", "            raise",
                  "        with open(os.devnull) as f:", "            self.w = f.read()"]
        if name != "end":
            lines.append(f"        self.next(self.{names[i + 1]})")
        lines.append("")
    return "\n".join(lines) + "\n"


SHAPES = {
    "chain": lambda n: generate_flow(n),
    "diamonds+foreach": lambda n: generate_flow(n, diamonds=n // 50, foreaches=n // 50),
    "wide split": wide_split,
    "many foreach": lambda n: generate_flow(n, foreaches=n // 4),
    "rich steps": rich,
    "nested splits": nested,
    "nested foreach": lambda n: nested(n, foreach=True),
}


def main(argv=None):
    import sfncompile.frontend.pieces as pieces
    from sfncompile.pipeline import parse_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", default="250,500,1000,2000")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--no-before", action="store_true", help="skip the whole-file (before) column")
    args = parser.parse_args(argv)
    default_threshold = pieces.PIECES_FROM_LINES
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 CPUs); CPU ms, medians of {args.runs}")
    print(f"{'shape':<18}{'steps':>6}{'lines':>8}  {'after ms':>9}{'ms/step':>8}  {'before ms':>10}{'ms/step':>8}")
    for shape in args.shapes.split(","):
        for n in [int(x) for x in args.steps.split(",")]:
            text = SHAPES[shape](n)
            after, before = [], []
            for _ in range(args.runs):
                for mode, out in (("after", after), ("before", before)):
                    if mode == "before" and args.no_before:
                        continue
                    pieces.PIECES_FROM_LINES = default_threshold if mode == "after" else 10 ** 9
                    t0 = time.process_time()
                    graph, diagnostics = parse_text(text, f"{shape}.py")
                    out.append(time.process_time() - t0)
                    errors = [d.format() for d in diagnostics if d.severity == "error"]
                    assert graph is not None and not errors, errors[:3]
            a = 1000 * statistics.median(after)
            b = 1000 * statistics.median(before) if before else float("nan")
            print(f"{shape:<18}{n:>6}{text.count(chr(10)):>8}  {a:>9.0f}{a / n:>8.2f}  {b:>10.0f}{b / n:>8.2f}",
                  flush=True)
    pieces.PIECES_FROM_LINES = default_threshold
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
