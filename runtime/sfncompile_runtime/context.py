"""Building a step's ``self`` (and a join's ``inputs``) from the parents' records,
and storing what the step produced.

Parent tasks are found from ``graph.json`` and the index path alone
(contract §3): same depth → same path; the foreach step above → the path
without its last index; a foreach join → the body's tasks at ``<path>.0`` …
``<path>.<width-1>``; a (step, index path) names its task id through
``datastore.task_id_for``. A step with several possible parents that is not a join
(after a switch, or a loop) reads whichever of them committed last.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import sys
import types

from . import graphinfo
from .failures import SetupError, StepFailure
from .flowspec import FlowSpec, ForeachFrame, Inputs, TaskView, class_constants
from .shims import SHADOWED_MODULES, install_shims  # noqa: F401  (re-exported: callers import it from here)

_MISSING = object()
_IMMUTABLE = (int, float, complex, bool, str, bytes, type(None), frozenset, range)
# What pickle raises for a value it cannot serialise (an open file, a lock, a local class...)
_UNPICKLABLE = (pickle.PicklingError, TypeError, AttributeError, RecursionError, NotImplementedError)


# What the runtime imports lazily, after the step's code has run (storing artifacts, publishing,
# log upload, exit hooks): imported before the flow's directory goes on sys.path, so that a
# ``json.py`` or ``signal.py`` next to the flow is the flow's module and never the runtime's.
RUNTIME_NEEDS = ("concurrent.futures", "hashlib", "importlib.util", "inspect", "io", "json", "pickle",
                 "platform", "shutil", "signal", "sqlite3", "subprocess", "tempfile", "threading", "time",
                 "traceback", "types", "zlib")
RUNTIME_NEEDS_S3 = ("boto3", "boto3.s3.transfer", "botocore.config", "botocore.exceptions")


def import_runtime_needs() -> None:
    """Import what the runtime will need later (``RUNTIME_NEEDS``; the S3 ones when boto3 is
    loaded). Standard-library modules whose import reads no environment: the warm-start
    process imports them once, so a task forked from it does not pay for them again."""
    import importlib

    for name in RUNTIME_NEEDS:
        importlib.import_module(name)
    if "boto3" in sys.modules or "botocore" in sys.modules:
        for name in RUNTIME_NEEDS_S3:
            importlib.import_module(name)


def user_code_on_path(package_dir: str) -> None:
    """Put the flow's directory first on sys.path (as ``python flow.py`` does), once the runtime
    holds every module it will need: a module there never replaces one of the runtime's."""
    import_runtime_needs()
    if sys.path[:1] != [package_dir]:
        sys.path.insert(0, package_dir)


def import_flow_class(package_dir: str, manifest: dict, flow_name: str):
    install_shims()
    user_code_on_path(package_dir)
    path = os.path.join(package_dir, manifest["flow_file"])
    module_name = manifest.get("module") or "flow"
    module = sys.modules.get(module_name)
    if module is None or getattr(module, "__file__", None) != path:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    cls = getattr(module, flow_name, None)
    if not isinstance(cls, type) or not issubclass(cls, FlowSpec):
        raise SetupError(f"{manifest['flow_file']} defines no FlowSpec subclass named {flow_name}")
    return cls


def new_flow(cls, view: TaskView):
    flow = cls.__new__(cls)
    flow.__dict__["_sfn_task"] = view
    return flow


def _parent_path(path: str) -> str:
    return path.rsplit(".", 1)[0] if "." in path else ""


def frames_for(task, step: str, path: str) -> list[ForeachFrame]:
    node = task.graph["steps"][step]
    stack = node.get("foreach_stack") or []
    parts = path.split(".") if path else []
    frames = []
    for level, foreach_step in enumerate(stack):
        if level >= len(parts):
            break
        owner_path = ".".join(parts[:level])
        frames.append(ForeachFrame(
            foreach_step, graphinfo.foreach_var(task.graph, foreach_step), int(parts[level]),
            record=(lambda s=foreach_step, p=owner_path: task.record_of(s, task.task_id_of(s, p))),
            load=task.store.load_artifact))
    return frames


def view_of(task, step: str, path: str) -> TaskView:
    """A read-only view of another task's committed outputs (a join input)."""
    record = task.record_of(step, task.task_id_of(step, path))
    return TaskView(step, record.get("artifacts", {}), task.store.load_artifact, frames_for(task, step, path),
                    record.get("parameters", []), not_stored=record.get("not_stored"))


def build_flow(task):
    """The flow instance for this task, bound to its parents' artifacts."""
    cls = import_flow_class(task.package_dir, task.manifest, task.flow_name)
    graph, node, step, path = task.graph, task.node, task.step, task.index_path
    frames = frames_for(task, step, path)
    if step == graph.get("start") and not node.get("in_funcs"):
        view = TaskView(step, {}, task.store.load_artifact, frames, [])
        flow = new_flow(cls, view)
        _set_parameters(task, cls, flow, view)
        return flow, view
    if node.get("is_join"):
        tasks, names = parent_tasks(task)
        views = [view_of(task, parent, parent_path) for parent, parent_path in tasks]
        inputs = Inputs([new_flow(cls, v) for v in views], names)
        params = views[0].parameters if views else _start_parameters(task)
        refs = {}
        source = views[0].refs if views else {}
        for name in params:
            if name in source:
                refs[name] = source[name]
        view = TaskView(step, refs, task.store.load_artifact, frames, params, is_join=True, inputs=inputs)
        return new_flow(cls, view), view
    [(parent, parent_path)], _ = parent_tasks(task)
    record = task.record_of(parent, task.task_id_of(parent, parent_path))
    view = TaskView(step, record.get("artifacts", {}), task.store.load_artifact, frames, record.get("parameters", []),
                    not_stored=record.get("not_stored"))
    return new_flow(cls, view), view


def parent_tasks(task) -> tuple[list[tuple[str, str]], list[str]]:
    """The (step, index path) of every task this one reads, in input order, and the input
    names of a static join (empty otherwise). The start step has none."""
    graph, node, step, path = task.graph, task.node, task.step, task.index_path
    steps = graph["steps"]
    parents = list(node.get("in_funcs") or [])
    if not parents:
        return [], []
    if node.get("is_join"):
        if graphinfo.is_foreach_join(graph, node):
            foreach_step = steps[parents[0]]["foreach_stack"][-1]
            width = int(task.record_of(foreach_step, task.task_id_of(foreach_step, path))["foreach"]["width"])
            child_paths = [f"{path}.{i}" if path else str(i) for i in range(width)]
            # With a switch in the body, each iteration ends in whichever case it took.
            return [(_ran(task, parents, p), p) for p in child_paths], []
        # One input per branch of the split; a branch with a switch ends in the case it took.
        names = [_ran(task, group, path) for group in graphinfo.static_join_branches(graph, step)]
        return [(name, path) for name in names], names
    return [_choose_parent(task, parents, path)], []


def _ran(task, candidates: list[str], path: str) -> str:
    """Which of ``candidates`` (steps at ``path``, of which one ran: the cases of a switch)
    ran: the one that committed last. With one candidate, that one (missing → a clear error)."""
    if len(candidates) == 1:
        return candidates[0]
    found = [(task.maybe_record(c, task.task_id_of(c, path)), c) for c in candidates]
    found = [((r.get("finished_at") or 0), c) for r, c in found if r is not None]
    if not found:
        from .failures import SetupError

        raise SetupError(f"step '{task.step}' needs the output of one of {', '.join(candidates)} in run "
                         f"{task.flow_name}/{task.run_id} at foreach index path {path or '(top level)'}, "
                         "and none has a successful attempt")
    return max(found)[1]


def _start_parameters(task) -> list[str]:
    record = task.maybe_record(task.graph["start"], task.task_id_of(task.graph["start"], ""))
    return record.get("parameters", []) if record else []


def _choose_parent(task, parents: list[str], path: str) -> tuple[str, str]:
    """(step, index path) of a non-join step's parent: with several possible parents (after
    a switch, or in a loop), the one that committed last."""
    steps = task.graph["steps"]
    depth = graphinfo.depth(task.node)
    candidates = []
    for parent in parents:
        parent_depth = graphinfo.depth(steps[parent])
        candidates.append((parent, _parent_path(path) if parent_depth < depth else path))
    if len(candidates) == 1:
        return candidates[0]
    found = [(task.maybe_record(step, task.task_id_of(step, p)), (step, p)) for step, p in candidates]
    found = [(r.get("finished_at") or 0, c) for r, c in found if r is not None]
    if not found:
        raise SetupError(f"step '{task.step}': none of its parents ({', '.join(parents)}) has a successful task")
    return max(found)[1]


def set_config_values(graph: dict) -> None:
    """The configs compiled into graph.json, for ``DelayedConfig`` and ``ctx.configs``."""
    from . import configs

    configs.set_values({c["name"]: (c.get("value"), bool(c.get("plain"))) for c in graph.get("configs") or []})


def _set_parameters(task, cls, flow, view) -> None:
    from .parameters import ParameterContext, ParameterError, env_value

    given = task._parameters_input()
    declared = [(attr, value) for attr, value in _class_parameters(cls)]
    known = {p.name for _, p in declared} | {attr for attr, _ in declared}
    unknown = sorted(set(given) - known)
    if unknown:
        raise StepFailure(f"unknown parameter(s): {', '.join(unknown)} "
                          f"(the flow declares: {', '.join(sorted(p.name for _, p in declared)) or 'none'})")
    names = []
    for attr, param in declared:
        if param.name in given:
            raw = given[param.name]
        elif attr in given:
            raw = given[attr]
        elif env_value(param) is not None:
            raw = env_value(param)  # METAFLOW_RUN_<NAME>, as Metaflow's command line reads it
        else:
            from .configs import namespace_for_context

            context = ParameterContext(task.flow_name, task.user, param.name, print, "sfncompile",
                                       namespace_for_context())
            raw = param.resolve_default(context)
            if raw is None and param.required:
                raise StepFailure(f"parameter '{param.name}' is required: pass it with --param {param.name}=VALUE")
        raw = _included_content(task, raw)
        try:
            value = param.convert(raw)
        except ParameterError as exc:
            raise StepFailure(str(exc))
        flow.__dict__[attr] = value
        names.append(attr)
    # Configs and class-level constants are artifacts of every step too, read-only
    # like the parameters and passed down with them (Metaflow's _set_constants).
    for config in task.graph.get("configs") or []:
        flow.__dict__[config["attr"]] = config.get("value")
        names.append(config["attr"])
    for var in class_constants(cls):
        if var not in names:
            flow.__dict__[var] = getattr(cls, var)
            names.append(var)
    view.parameters = names


def _included_content(task, raw):
    """An ``IncludeFile`` value arrives as a reference to the file's bytes, which the launching
    process stored in the datastore (``parameters.INCLUDE_KEY``); anything else as is."""
    from .parameters import INCLUDE_KEY

    if isinstance(raw, dict) and INCLUDE_KEY in raw:
        return task.store.load_artifact(raw[INCLUDE_KEY])
    return raw


def _class_parameters(cls):
    from .parameters import Parameter

    seen = set()
    for klass in cls.__mro__:
        for attr, value in vars(klass).items():
            if isinstance(value, Parameter) and attr not in seen:
                seen.add(attr)
                yield attr, value


def persist(task, flow, view: TaskView) -> tuple[dict, list[str], dict]:
    """Store what the step set; pass inherited refs down untouched.

    Returns (artifacts, parameters, not_stored): ``not_stored`` names the attributes
    that are not artifacts (functions, as in Metaflow) with why, so that a later step
    reading one is told where it went instead of "no artifact".
    """
    out = dict(view.refs)
    not_stored = {name: why for name, why in view.not_stored.items() if name not in flow.__dict__}
    pending = []
    for name, value in flow.__dict__.items():
        if name.startswith("_sfn"):
            continue
        if name in view.refs and view.loaded.get(name, _MISSING) is value and isinstance(value, _IMMUTABLE):
            continue  # the very (immutable) object read from the parent: its blob is this value
        if isinstance(value, (types.ModuleType, types.FunctionType)):
            kind = "module" if isinstance(value, types.ModuleType) else f"function ({value.__qualname__})"
            not_stored[name] = f"step '{task.step}' set self.{name} to a {kind}, which is not stored as an artifact"
            out.pop(name, None)
            print(f"sfncompile: warning: {not_stored[name]} (as in Metaflow): later steps cannot read it",
                  file=sys.stderr)
            continue
        pending.append((name, value))

    def store(item):
        name, value = item
        try:
            return task.store.put_artifact(value)
        except _UNPICKLABLE as exc:
            raise StepFailure(f"step '{task.step}': artifact '{name}' ({type(value).__name__}) cannot be stored: "
                              f"{type(exc).__name__}: {exc}. Artifacts must be picklable: store what it holds "
                              f"(e.g. a file's path or content) or `del self.{name}` before self.next()") from None

    if len(pending) > 1 and not task.store.storage.is_local:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=8) as pool:
            refs = list(pool.map(store, pending))
        for (name, _), ref in zip(pending, refs):
            out[name] = ref
    else:
        for name, value in pending:
            out[name] = store((name, value))
    return out, list(view.parameters), not_stored
