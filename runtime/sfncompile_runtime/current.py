"""``current``: what a running task knows about itself (Metaflow's names).

Filled by the step runner before the step's code runs (and, with the
run-level fields only, while a ``Parameter(default=function)`` is evaluated);
empty outside a task. ``current.run`` / ``current.task`` are client objects,
built on first use.
"""

from __future__ import annotations


def project_fields(project: str | None, flow_name: str, user: str, branch: str | None = None,
                   production: bool = False) -> dict:
    """``@project``'s names (Metaflow's rules): the branch is ``prod`` for a production
    deployment, ``test.<branch>`` for a named branch, else ``user.<user>``."""
    if not project:
        return {"project_name": None, "branch_name": None, "project_flow_name": None}
    if production:
        branch_name = "prod" if not branch else f"prod.{branch}"
    elif branch:
        branch_name = f"test.{branch}"
    else:
        branch_name = f"user.{user}"
    return {"project_name": project, "branch_name": branch_name,
            "project_flow_name": f"{project}.{branch_name}.{flow_name}"}


def project_system_tags(fields: dict) -> list[str]:
    """The run's system tags for ``@project`` (``project:…``, ``project_branch:…``)."""
    if not fields.get("project_name"):
        return []
    return [f"project:{fields['project_name']}", f"project_branch:{fields['branch_name']}"]


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
        self.branch_name = None
        self.project_flow_name = None
        self._tags = frozenset()
        self.parameter_names = ()
        self.graph = None
        self.tempdir = None

    def _bind(self, **fields) -> None:
        for key, value in fields.items():
            setattr(self, "_tags" if key == "tags" else key, value)
        self._running = True

    @property
    def tags(self) -> set:
        """The run's tags, user and system (a new set: Metaflow's flows add to it)."""
        return set(self._tags)

    @property
    def is_running_flow(self) -> bool:
        return self._running

    @property
    def pathspec(self) -> str | None:
        if not self._running or self.step_name is None:
            return None
        return f"{self.flow_name}/{self.run_id}/{self.step_name}/{self.task_id}"

    @property
    def run(self):
        """The client's ``Run`` of this task's run."""
        if not self._running or self.run_id is None:
            return None
        from .client import Run

        return Run(f"{self.flow_name}/{self.run_id}")

    @property
    def task(self):
        """The client's ``Task`` of this task."""
        if self.pathspec is None:
            return None
        from .client import Task

        return Task(self.pathspec)

    def get(self, name, default=None):
        return getattr(self, name, default)

    def __repr__(self) -> str:
        return f"<current {self.pathspec or '(not in a task)'}>"


current = Current()
