"""``current``: what a running task knows about itself (Metaflow's names)."""

from __future__ import annotations


class Current:
    """Filled by the step runner before the step's code runs; empty outside a task."""

    def __init__(self):
        self._running = False
        self.flow_name = None
        self.run_id = None
        self.step_name = None
        self.task_id = None
        self.retry_count = 0
        self.origin_run_id = None
        self.namespace = None
        self.username = None
        self.is_production = False
        self.project_name = None
        self.tags = frozenset()
        self.parameter_names = ()

    def _bind(self, **fields) -> None:
        for key, value in fields.items():
            setattr(self, key, value)
        self._running = True

    @property
    def is_running_flow(self) -> bool:
        return self._running

    @property
    def pathspec(self) -> str | None:
        if not self._running:
            return None
        return f"{self.flow_name}/{self.run_id}/{self.step_name}/{self.task_id}"

    def get(self, name, default=None):
        return getattr(self, name, default)

    def __repr__(self) -> str:
        return f"<current {self.pathspec or '(not in a task)'}>"


current = Current()
