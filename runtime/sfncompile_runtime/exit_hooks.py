"""``@exit_hook``: the ``exit-hook`` mode of the runner (docs/state-machine.md §7).

After the flow's own machine ended, the state machine runs one Batch job
``python3 -c BOOTSTRAP exit-hook success|error``. It imports the flow module
from the code package (as a step does), then calls the ``on_success`` (or
``on_error``) hooks named in ``graph.json``, in order. A hook whose signature
takes ``run`` (or ``**kwargs``) gets ``run=Run("<Flow>/<run_id>")`` read with
namespace ``None``; any other is called without arguments (Metaflow's rule).
A hook that raises is reported and the others still run.

Output is teed to ``runs/<run_id>/exit_hook.<kind>/<attempt>/stdout.log`` /
``stderr.log`` with a ``record.json`` listing what ran (docs/datastore.md);
the directory name has a dot, so the client never takes it for a step.

Exit status: 0 when every hook returned, 1 when any raised or is missing, 2
when the task cannot start. The state machine catches a failing hook job:
the run's outcome is the flow's, whatever the hooks do.
"""

from __future__ import annotations

import inspect
import os
import sys
import time
import traceback

from . import envnames, graphinfo
from .datastore import Datastore, run_prefix
from .codepackage import read_package
from .failures import SetupError

KINDS = {"success": "on_success", "error": "on_error"}


def hook_prefix(flow: str, run_id: str, kind: str) -> str:
    return f"{run_prefix(flow, run_id)}/exit_hook.{kind}"


def hook_names(graph: dict, kind: str) -> list[str]:
    args = graphinfo.flow_decorator_args(graph, "exit_hook") or {}
    return [str(n) for n in args.get(KINDS[kind]) or []]


def wants_run(function) -> bool:
    """Metaflow passes ``run=`` only to hooks that can take it."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "run" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def run_hooks(kind: str, package_dir: str, env=os.environ) -> int:
    if kind not in KINDS:
        print(f"sfncompile: exit-hook mode takes 'success' or 'error', got {kind!r}", file=sys.stderr)
        return 2
    try:
        graph, manifest = read_package(package_dir)
    except SetupError as exc:
        print(f"sfncompile: {exc}", file=sys.stderr)
        return 2
    run_id, root = env.get(envnames.RUN_ID), env.get(envnames.DATASTORE)
    if not run_id or not root:
        print(f"sfncompile: {envnames.RUN_ID} and {envnames.DATASTORE} must be set", file=sys.stderr)
        return 2
    flow = graph["name"]
    store = Datastore(root, flow)
    prefix = hook_prefix(flow, run_id, kind)
    attempts = [int(n) for n in store.storage.list_children(prefix) if n.isdigit()]
    attempt_dir = f"{prefix}/{max(attempts) + 1 if attempts else 0}"
    record = {"flow": flow, "run_id": run_id, "kind": kind, "started_at": time.time(), "hooks": []}
    if env.get(envnames.CAUGHT_ERROR):
        record["caught_error"] = env[envnames.CAUGHT_ERROR]

    from .logcapture import LogCapture

    capture = LogCapture(store.storage, attempt_dir)
    capture.start()
    try:
        _call_hooks(graph, manifest, package_dir, kind, flow, run_id, record)
    finally:
        from .processes import end_leftover_processes

        end_leftover_processes()
        capture.stop()
    record["finished_at"] = time.time()
    failed = [h for h in record["hooks"] if h["status"] != "ok"]
    record["status"] = "failed" if failed else "ok"
    try:
        store.write_json(f"{attempt_dir}/record.json", record)
    except Exception as exc:  # the logs went to the console too; the exit code still tells
        print(f"sfncompile: could not record the exit hooks: {exc}", file=sys.stderr)
    return 1 if failed else 0


def _call_hooks(graph: dict, manifest: dict, package_dir: str, kind: str, flow: str, run_id: str,
                record: dict) -> None:
    names = hook_names(graph, kind)
    if not names:
        print(f"sfncompile: {flow} has no {KINDS[kind]} exit hooks")
        return
    try:
        module = _flow_module(package_dir, manifest, flow)
    except BaseException:
        traceback.print_exc()
        record["hooks"] = [{"name": n, "status": "failed", "error": "the flow module could not be imported"}
                           for n in names]
        return
    run = None
    for name in names:
        entry = {"name": name}
        record["hooks"].append(entry)
        function = getattr(module, name, None)
        if not callable(function):
            entry.update(status="failed", error=f"{manifest.get('flow_file')} has no function {name}")
            print(f"sfncompile: exit hook {name}: {entry['error']}", file=sys.stderr)
            continue
        try:
            if wants_run(function):
                if run is None:
                    run = _run_object(flow, run_id)
                function(run=run)
            else:
                function()
        except BaseException as exc:  # one hook's failure must not stop the others
            traceback.print_exc()
            entry.update(status="failed", error=f"{type(exc).__name__}: {exc}")
            print(f"sfncompile: exit hook {name} ({KINDS[kind]}) failed: {entry['error']}", file=sys.stderr)
            continue
        entry["status"] = "ok"
        print(f"sfncompile: exit hook {name} ({KINDS[kind]}) ran")


def _flow_module(package_dir: str, manifest: dict, flow: str):
    from .context import import_flow_class

    cls = import_flow_class(package_dir, manifest, flow)
    return sys.modules[cls.__module__]


def _run_object(flow: str, run_id: str):
    from . import client

    client.namespace(None)
    return client.Run(f"{flow}/{run_id}")
