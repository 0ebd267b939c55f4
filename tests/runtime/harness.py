"""Run tasks the way the state machine does: ``python -c BOOTSTRAP <mode> <step>``
with the contract's environment, one subprocess per task.

``FlowDriver.run_flow`` walks the graph like a (sequential) state machine —
Parallel branches one after another, a foreach's Map over the width read back
from the side channel, a switch's Choice on the published branch — so the
tests exercise the runner without the executor.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sfncompile.package import build_code_package, store_code_package
from sfncompile.pipeline import load_graph
from sfncompile_runtime.bootstrap import BOOTSTRAP_SOURCE
from sfncompile_runtime.datastore import task_id_for
from sfncompile_runtime.sidechannel import open_side_channel

ROOT = Path(__file__).resolve().parents[2]


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


@dataclass
class FlowDriver:
    flow_path: Path
    datastore: str
    side_channel: str
    cache_dir: Path
    extra_env: dict = field(default_factory=dict)

    def __post_init__(self):
        self.graph = load_graph(self.flow_path)
        self.graph_dict = json.loads(self.graph.to_json())
        self.package = build_code_package(self.graph, self.flow_path)
        self.code_url = store_code_package(self.package, self.datastore, self.graph.name)
        self.calls: list[tuple[str, str, int]] = []

    @property
    def name(self) -> str:
        return self.graph.name

    def env(self, **overrides) -> dict:
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # the task must live on the code package alone
        env.update({
            "SFNCOMPILE_CODE_URL": self.code_url,
            "SFNCOMPILE_CODE_SHA256": self.package.sha256,
            "SFNCOMPILE_DATASTORE": self.datastore,
            "SFNCOMPILE_SIDE_CHANNEL": self.side_channel,
            "SFNCOMPILE_CODE_CACHE": str(self.cache_dir),
            "SFNCOMPILE_LOG_UPLOAD_SECONDS": "0.5",
        })
        env.update(self.extra_env)
        env.update({k: v for k, v in overrides.items() if v is not None})
        return env

    def run_step(self, step: str, run_id: str, path: str = "", retry: int = 0, params: dict | None = None,
                 mode: str = "step", caught: str | None = None, timeout: float = 120,
                 extra: dict | None = None) -> subprocess.CompletedProcess:
        env = self.env(SFNCOMPILE_RUN_ID=run_id, SFNCOMPILE_INDEX_PATH=path,
                       SFNCOMPILE_RETRY_COUNT=str(retry),
                       SFNCOMPILE_PARAMETERS=json.dumps(params or {}) if step == self.graph.start else None,
                       SFNCOMPILE_CAUGHT_ERROR=caught)
        env.update(extra or {})
        proc = subprocess.run([sys.executable, "-c", BOOTSTRAP_SOURCE, mode, step], env=env,
                              capture_output=True, text=True, timeout=timeout, cwd=str(self.cache_dir.parent))
        self.calls.append((step, path, proc.returncode))
        return proc

    def task_id(self, step: str, path: str = "", visit: int = 0) -> str:
        """The id the runtime gives the task of ``step`` at ``path`` (``datastore.task_id_for``)."""
        return task_id_for(self.graph_dict, step, path, visit)

    def side(self, run_id: str, step: str, index_path: str) -> dict | None:
        """The side channel item of ``step`` at ``index_path`` (``0`` at top level): the state
        machine keys it by index path, not by task id."""
        return open_side_channel(self.side_channel).get(self.name, run_id, step, index_path)

    def run_flow(self, run_id: str | None = None, params: dict | None = None, retries: int = 0) -> str:
        """Run every task in graph order; raises AssertionError on a failed task."""
        run_id = run_id or new_run_id()
        steps = self.graph_dict["steps"]

        def go(step: str, path: str, stop: str | None = None):
            while step is not None and step != stop:
                node = steps[step]
                for attempt in range(retries + 1):
                    proc = self.run_step(step, run_id, path, retry=attempt, params=params)
                    if proc.returncode == 0:
                        break
                if proc.returncode != 0:
                    raise AssertionError(f"task {step}/{path or '0'} failed ({proc.returncode}):\n{proc.stderr}")
                kind = node["kind"]
                outs = node["out_funcs"]
                key = path or "0"  # the side channel's key (docs/state-machine.md §4)
                if kind == "foreach":
                    width = self.side(run_id, step, key)["width"]
                    for i in range(width):
                        go(outs[0], f"{path}.{i}" if path else str(i), node["matching_join"])
                    step = node["matching_join"]
                elif kind == "split":
                    for branch in outs:
                        go(branch, path, node["matching_join"])
                    step = node["matching_join"]
                elif kind == "switch":
                    branch = self.side(run_id, step, key)["branch"]
                    step = node["transition"]["switch_cases"][branch]
                elif kind == "end":
                    step = None
                else:
                    step = outs[0] if outs else None

        go(self.graph.start, "")
        return run_id
