"""Run public Metaflow flows with Metaflow and with sfncompile; compare what the steps print.

    python tests/public_flows/compare.py DIR [--metaflow PYTHON] [--sfncompile EXE]

Each case runs in a fresh copy of DIR with both tools. A step's printed lines are
compared as a sorted list of ``step: text`` (the order of parallel tasks is not
fixed), leaving out each tool's own runtime messages; the outcome is compared as
success or failure. Not run in CI: it needs Metaflow and the flows (see README).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# (file, Metaflow run options). Ours get the same values as --param NAME=VALUE.
CASES = [
    ("counter.py", []), ("counter_branch.py", []), ("counter_branch_helper.py", []),
    ("foreach.py", []), ("zerodiv.py", []), ("catchflow.py", []),
    ("json_parameter.py", []), ("json_parameter.py", ["--mapping", '{"mykey": "myvalue"}']),
    ("parameters.py", ["--creature", "dinosaur", "--ratio", "0.25"]), ("parameters.py", []),
    ("namespaceflow.py", []), ("firstflow.py", []), ("secondflow.py", []),
]
RUN_OPTIONS = {"--max-num-splits", "--max-workers", "--tag"}

# "[run/step/task (pid N)] text" (Metaflow) and "[Flow/run/step/task ...] text" (ours).
TASK_LINE = re.compile(r"\[(?:[^\]/ ]*/)?[^\]/ ]*/(\w+)/[^\]/]*\]\s?(.*)$")
RUNTIME_MESSAGES = ("Task is starting", "Task finished", "Sleeping", "Retrying", "@catch", "Foreach yields")
FAILURE_MARKERS = ("Task failed.", "sfncompile: step", "<flow ")


def step_lines(output: str) -> list[str]:
    """What the tasks printed, leaving out the attempts that failed (each tool reports a
    failure in its own words and with its own traceback frames) and each tool's own
    runtime messages."""
    by_task: dict[str, list[str]] = {}
    for line in output.splitlines():
        match = TASK_LINE.search(line.rstrip())
        if match:
            by_task.setdefault(line[match.start():line.index("]", match.start())], []).append((match[1], match[2]))
    found = []
    for lines in by_task.values():
        if any(text.startswith(FAILURE_MARKERS) for _, text in lines):
            continue
        found += [f"{step}: {text}" for step, text in lines
                  if text.strip() and not text.startswith(RUNTIME_MESSAGES + (" ", ">"))]
    return sorted(found)


def ours(options: list[str]) -> list[str]:
    out = []
    for name, value in zip(options[::2], options[1::2]):
        out += [name, value] if name in RUN_OPTIONS else ["--param", f"{name[2:]}={value}"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("flows")
    parser.add_argument("--metaflow", default="/work/mfvenv/bin/python")
    parser.add_argument("--sfncompile", default=shutil.which("sfncompile") or "sfncompile")
    args = parser.parse_args()
    args.sfncompile = os.path.abspath(args.sfncompile) if os.sep in args.sfncompile else args.sfncompile
    env = dict(os.environ, METAFLOW_USER="tester", USER="tester")
    differences = 0
    # One directory for all cases, as a user runs them: a flow may read an earlier one's runs.
    work = tempfile.mkdtemp(prefix="public-flows-")
    for name in os.listdir(args.flows):
        shutil.copy(os.path.join(args.flows, name), work)
    for flow, options in CASES:
        theirs = subprocess.run([args.metaflow, flow, "run"] + options, cwd=work, env=env,
                                capture_output=True, text=True)
        mine = subprocess.run([args.sfncompile, "run", flow] + ours(options), cwd=work, env=env,
                              capture_output=True, text=True)
        a, b = step_lines(theirs.stdout + theirs.stderr), step_lines(mine.stdout + mine.stderr)
        same = a == b and (theirs.returncode == 0) == (mine.returncode == 0)
        differences += not same
        print(f"{'same' if same else 'DIFFERENT'}  {flow} {' '.join(options)}  "
              f"(exit: metaflow {theirs.returncode}, sfncompile {mine.returncode})", flush=True)
        if not same:
            print("  metaflow:  ", a, "\n  sfncompile:", b)
    shutil.rmtree(work, ignore_errors=True)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
