"""``Task.metadata``: Metaflow's metadata events, derived from the attempt records.

sfncompile keeps no separate metadata service: what Metaflow records as
metadata events is already in each attempt's ``started.json`` and
``record.json``, so the events are rebuilt from them with Metaflow's names,
values (always strings) and types. A resumed run's clone has its origin's
events plus ``origin-run-id``/``origin-task-id``, as in Metaflow.
"""

from __future__ import annotations

import json
from collections import namedtuple

Metadata = namedtuple("Metadata", ["name", "value", "created_at", "type", "task"])

RUNTIME = "sfncompile"


def _ms(seconds) -> int:
    return int(float(seconds or 0) * 1000)


def attempt_events(*, attempt: int, started: dict, record: dict | None, user: str | None, script: str | None,
                   origin_run_id: str | None, ds_type: str, ds_root: str, foreach_path: str | None,
                   task, code_url=None) -> list[Metadata]:
    """The events of one attempt, Metaflow's names and types. ``code_url(sha)``: where the
    code package of that sha is (for ``code-package``)."""
    begun = _ms(started.get("started_at") or (record or {}).get("started_at"))
    events = []

    def add(name, value, ts=begun, kind=None):
        events.append(Metadata(name, str(value), ts, kind or name, task))

    add("attempt", attempt)
    if user:
        add("user", user)
    add("runtime", RUNTIME)
    python = started.get("python_version")
    if python:
        add("python_version", python)
    if script:
        add("script-name", script)
    add("origin-run-id", origin_run_id)  # "None" when not a resume, as Metaflow writes it
    add("ds-type", ds_type)
    add("ds-root", ds_root)
    if foreach_path:
        add("foreach-execution-path", foreach_path)
    sha = started.get("code_sha256") or (record or {}).get("code_sha256")
    if sha and code_url is not None:
        # Metaflow records it when the task ran from a code package (always, with sfncompile)
        add("code-package", json.dumps({"ds_type": ds_type, "sha": sha, "location": code_url(sha),
                                        "metadata": None}))
    if record is not None:
        done = _ms(record.get("finished_at")) or begun
        add("attempt_ok", record.get("status") == "ok", done, "internal_attempt_status")
        add("attempt-done", attempt, done)
    return events


def as_dict(events: list[Metadata]) -> dict:
    """The newest value of each name."""
    return {m.name: m.value for m in sorted(events, key=lambda m: m.created_at)}
