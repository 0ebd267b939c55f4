"""The ``api`` executor: run (and resume) a generated flow through the ``Runner`` API.

Run in the case's directory with ``support/`` on ``PYTHONPATH``, so that
``from metaflow import Runner`` is ours, as it is for a user. Written against
Metaflow's shape: ``Runner(flow_file, show_output=False, env=...)`` as a
context manager, ``.run(**options)`` / ``.resume(**options)`` blocking and
returning an ``ExecutingRun`` with ``.returncode``, ``.status``, ``.stdout``,
``.stderr`` and ``.run`` (a client ``Run``).

Reads ``api_spec.json`` (argv[1]); writes ``api_result.json``:
``{"steps": [{mode, returncode, status, stdout, stderr, seconds, run_id}], "error": str|null,
"unavailable": bool}``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

OPTION_NAMES = {"--max-workers": ("max_workers", int), "--max-num-splits": ("max_num_splits", int),
                "--tag": ("tags", str)}


def runner_options(run_options: list[str], run_id_file: bool) -> dict:
    """The context's ``--name=value`` run options as Metaflow's Runner keywords (``--tag`` → ``tags=[...]``)."""
    options: dict = {}
    for option in run_options:
        name, _, value = option.partition("=")
        key, kind = OPTION_NAMES[name]
        if key == "tags":
            options.setdefault(key, []).append(kind(value))
        else:
            options[key] = kind(value)
    if run_id_file:
        options["run_id_file"] = "run-id"
    return options


def top_level_options(top_options: list[str]) -> dict:
    """The context's top-level options as Runner keywords, as upstream passes them
    (``--metadata=local`` → ``metadata="local"``, ``--no-pylint`` → ``pylint=False``, ``--quiet`` → ``quiet=True``)."""
    options: dict = {}
    for option in top_options:
        name, has_value, value = option.partition("=")
        name = name[2:]
        if has_value:
            options[name.replace("-", "_")] = value
        elif name.startswith("no-"):
            options[name[3:].replace("-", "_")] = False
        else:
            options[name.replace("-", "_")] = True
    return options


def _record(mode: str, executing, started: float) -> dict:
    run = getattr(executing, "run", None)
    return {"mode": mode, "returncode": executing.returncode, "status": executing.status,
            "stdout": executing.stdout or "", "stderr": executing.stderr or "",
            "seconds": time.monotonic() - started, "run_id": getattr(run, "id", None)}


def main() -> int:
    spec = json.loads(open(sys.argv[1]).read())
    result = {"steps": [], "error": None, "unavailable": False}
    try:
        try:
            from metaflow import Runner
        except ImportError as exc:
            result["unavailable"] = True
            result["error"] = f"ImportError: {exc}"
            return 3
        options = runner_options(spec["run_options"], spec["run_id_file"])
        top = top_level_options(spec.get("top_options", []))
        with Runner("test_flow.py", show_output=False, env=dict(os.environ), **top) as runner:
            started = time.monotonic()
            with runner.run(**options) as executing:
                result["steps"].append(_record("run", executing, started))
            if result["steps"][-1]["returncode"] and spec["resume"]:
                if spec["resume_step"]:
                    options["step_to_rerun"] = spec["resume_step"]
                started = time.monotonic()
                with runner.resume(**options) as executing:
                    result["steps"].append(_record("resume", executing, started))
        for step in result["steps"]:
            expected = "failed" if step["returncode"] else "successful"
            if step["status"] != expected:
                result["error"] = (f"ExecutingRun inconsistent: returncode {step['returncode']} "
                                   f"but status {step['status']!r}")
                return 1
        return 0
    except Exception as exc:
        traceback.print_exc()
        result["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
        return 1
    finally:
        with open("api_result.json", "w") as out:
            json.dump(result, out)


if __name__ == "__main__":
    sys.exit(main())
