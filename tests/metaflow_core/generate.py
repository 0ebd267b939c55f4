"""Generate every graph × test case of Metaflow's core suite with the upstream formatter.

Run as a separate process (``python -m tests.metaflow_core.generate``) with
``support/`` (our ``metaflow``), ``upstream/`` (``metaflow_test``) and
``upstream/tests`` on ``PYTHONPATH``: the formatter and the upstream test
modules import ``metaflow``, and that must be our runtime's API, installed by
its own shim mechanism, in a process of its own (the shim changes global
state: ``sys.modules`` and the decorators' validation switch).

Prints one JSON document on stdout: ``{"cases": [...], "errors": [...]}``.
``errors`` names what could not be loaded (an upstream test module, or the
harness itself) with the first meaningful line of the error.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from pathlib import Path

UPSTREAM = Path(__file__).resolve().parent / "upstream"


def _error_line(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]


def _graphs() -> list[dict]:
    root = UPSTREAM / "graphs"
    graphs = []
    for name in sorted(os.listdir(root)):
        if name.endswith(".json") and not name.startswith("."):
            graphs.append(json.loads((root / name).read_text()))
    return graphs


def _tests(errors: list[dict]):
    from metaflow_test import MetaflowTest

    root = UPSTREAM / "tests"
    found = []
    for name in sorted(os.listdir(root)):
        if not name.endswith(".py") or name.startswith("."):
            continue
        try:
            module = importlib.import_module(name[:-3])
        except Exception as exc:  # an upstream module that needs a name we lack
            errors.append({"what": f"tests/{name}", "error": _error_line(exc)})
            continue
        for attr in sorted(dir(module)):
            obj = getattr(module, attr)
            if attr != "MetaflowTest" and isinstance(obj, type) and issubclass(obj, MetaflowTest) \
                    and obj.__module__ == module.__name__:
                found.append(obj())
    return sorted(found, key=lambda t: (t.PRIORITY, type(t).__name__))


def generate() -> dict:
    errors: list[dict] = []
    try:
        from metaflow_test.formatter import FlowFormatter

        tests = _tests(errors)
    except Exception as exc:
        return {"cases": [], "errors": [{"what": "harness (metaflow_test, formatter)", "error": _error_line(exc)}]}
    cases = []
    for test in tests:
        for graph in _graphs():
            try:
                formatter = FlowFormatter(graph, test)
            except Exception as exc:
                errors.append({"what": f"{type(test).__name__}/{graph['name']}", "error": _error_line(exc)})
                continue
            if not formatter.valid:
                continue
            cases.append({
                "test": type(test).__name__,
                "graph": graph["name"],
                "flow_name": formatter.flow_name,
                "flow_code": formatter.flow_code,
                "check_code": formatter.check_code,
                "copy_files": list(formatter.copy_files),
                "should_resume": bool(formatter.should_resume),
                "resume_step": formatter.resume_step,
                "should_fail": bool(formatter.should_fail),
                "parallel_graph": any("num_parallel" in node for node in graph["graph"].values()),
            })
    return {"cases": cases, "errors": errors}


def main() -> None:
    json.dump(generate(), sys.stdout)


if __name__ == "__main__":
    main()
