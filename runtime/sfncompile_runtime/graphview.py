"""``flow._graph``: Metaflow's view of the step graph (``graph[name].type`` ...).

Inside a task it is read from the code package's ``graph.json``; outside one
(Metaflow's test checker builds ``TheFlow(use_cli=False)``) the compiler, when
installed, reads the flow file.
"""

from __future__ import annotations

import os
import sys

# Our step kinds → Metaflow's node types.
METAFLOW_TYPES = {"start": "start", "end": "end", "linear": "linear", "split": "split", "foreach": "foreach",
                  "switch": "split-switch", "join": "join"}


class GraphNode:
    def __init__(self, name: str, node: dict):
        self.name = name
        self.type = METAFLOW_TYPES.get(node.get("kind"), node.get("kind"))
        self.in_funcs = set(node.get("in_funcs") or [])
        self.out_funcs = list(node.get("out_funcs") or [])
        self.matching_join = node.get("matching_join")
        self.split_parents = list(node.get("split_parents") or [])
        self.foreach_param = (node.get("transition") or {}).get("foreach")
        self.is_inside_foreach = bool(node.get("foreach_stack"))
        transition = node.get("transition") or {}
        self.condition = transition.get("condition")
        self.switch_cases = dict(transition.get("switch_cases") or {})
        # Multi-node @parallel is refused by `check`, so no step we run is a parallel one.
        self.parallel_step = False
        self.parallel_foreach = False
        self.num_parallel = 0

    def __repr__(self):
        return f"<GraphNode {self.name} ({self.type})>"


class FlowGraphView:
    def __init__(self, data: dict):
        self.name = data.get("name")
        self.nodes = {name: GraphNode(name, node) for name, node in (data.get("steps") or {}).items()}

    def __getitem__(self, name: str) -> GraphNode:
        return self.nodes[name]

    def __contains__(self, name: str) -> bool:
        return name in self.nodes

    def __iter__(self):
        return iter(self.nodes.values())


def _graph_dict(flow) -> dict:
    from . import envnames

    package = os.environ.get(envnames.PACKAGE_DIR)
    if flow.__dict__.get("_sfn_task") is not None and package:
        import json

        with open(os.path.join(package, "graph.json")) as src:
            return json.load(src)
    module = sys.modules.get(type(flow).__module__)
    path = getattr(module, "__file__", None)
    return _load_with_compiler(path, type(flow).__name__)


def _load_with_compiler(path: str, name: str) -> dict:
    """The compiler's IR of the flow, even where ``install_shims`` made ``sfncompile``
    the API module (the real package is put back while the compiler runs)."""
    import importlib

    shadow = sys.modules.get("sfncompile")
    real = shadow is not None and getattr(shadow, "__name__", "") == "sfncompile"
    if shadow is not None and not real:
        del sys.modules["sfncompile"]
    try:
        try:
            pipeline = importlib.import_module("sfncompile.pipeline")
        except ImportError:
            raise AttributeError("flow._graph needs the sfncompile compiler outside a running task") from None
        return pipeline.load_graph(path, name).to_dict()
    finally:
        if shadow is not None and not real:
            sys.modules["sfncompile"] = shadow


def graph_of(flow) -> FlowGraphView:
    cls = type(flow)
    cached = cls.__dict__.get("_sfn_graph_view")
    if cached is None:
        cached = FlowGraphView(_graph_dict(flow))
        type.__setattr__(cls, "_sfn_graph_view", cached)
    return cached
