"""Every read the client makes of the datastore, in one place.

The client never trusts a record to be readable: a run, step or task whose
JSON is missing, truncated or not an object is skipped (or shown as not
finished) with one warning on stderr, so one bad record cannot break the
listing of everything else. Hardening of what counts as "readable" (checksums,
size limits) belongs here, not in the client's objects.
"""

from __future__ import annotations

import os

from .. import envnames
from ..datastore import (Datastore, InvalidName, attempt_prefix, check_name, run_prefix, split_task_id, task_prefix,
                         warn_unreadable)
from ..storage import open_storage

RUN_RECORD = "run.json"
TAGS_RECORD = "tags.json"  # user tags after Run.add_tag & co (run.json keeps the launch's)
_stores: dict = {}


def datastore_root() -> str:
    root = os.environ.get(envnames.DATASTORE) or envnames.DEFAULT_DATASTORE
    return root if root.startswith("s3://") else os.path.abspath(root)


def store(flow: str) -> Datastore:
    """The datastore of ``flow`` under the current root (one per root and flow)."""
    root = datastore_root()
    key = (root, flow)
    if key not in _stores:
        _stores[key] = Datastore(open_storage(root), flow)
    return _stores[key]


def forget_stores() -> None:
    _stores.clear()


def read_json(ds: Datastore, key: str) -> dict | None:
    """The JSON object stored at ``key``; None when absent or unreadable (the datastore
    warns once, naming it)."""
    try:
        return ds.read_json(key)
    except OSError as exc:  # S3/network trouble reading one record
        warn_unreadable(ds.storage.url(key), str(exc))
        return None


def read_text(ds: Datastore, key: str) -> str:
    """A log's text; '' when absent or not a readable regular file (warned, naming it)."""
    try:
        data = ds.storage.get_bytes(key)
    except OSError as exc:
        warn_unreadable(ds.storage.url(key), str(exc))
        return ""
    return data.decode("utf-8", "replace") if data else ""


def children(ds: Datastore, prefix: str) -> list[str]:
    return ds.storage.list_children(prefix)


# -- flows ---------------------------------------------------------------------
def flow_names() -> list[str]:
    """Flows with a runs/ folder under the current root (``.cache``, ``_local_logs`` are not flows)."""
    storage = open_storage(datastore_root())
    names = [n for n in storage.list_children("") if n and not n.startswith((".", "_"))]
    return sorted(n for n in names if storage.list_children(f"{n}/runs"))


# -- runs ----------------------------------------------------------------------
def has_runs(ds: Datastore) -> bool:
    return bool(children(ds, f"{ds.flow}/runs"))


def run_ids(ds: Datastore) -> list[str]:
    """Folders under runs/ that can be run ids (a stray file or hidden folder is not a run)."""
    ids = []
    for name in children(ds, f"{ds.flow}/runs"):
        try:
            ids.append(check_name("run id", name))
        except InvalidName:
            continue
    return ids


def run_exists(ds: Datastore, run_id: str) -> bool:
    """False for a name that cannot be a run id, too: ``Flow(...)['bad name']`` is a KeyError,
    as Metaflow's, not an error about paths."""
    try:
        return bool(children(ds, run_prefix(ds.flow, run_id)))
    except InvalidName:
        return False


def run_record(ds: Datastore, run_id: str) -> dict | None:
    return read_json(ds, f"{run_prefix(ds.flow, run_id)}/{RUN_RECORD}")


def user_tags(ds: Datastore, run_id: str, record: dict) -> list[str]:
    """The run's user tags: the last mutation's, else the launch's."""
    mutated = read_json(ds, f"{run_prefix(ds.flow, run_id)}/{TAGS_RECORD}")
    if mutated is not None and isinstance(mutated.get("tags"), list):
        return [t for t in mutated["tags"] if isinstance(t, str)]
    tags = record.get("tags") or []
    return [t for t in tags if isinstance(t, str)]


def write_user_tags(ds: Datastore, run_id: str, tags) -> None:
    ds.write_json(f"{run_prefix(ds.flow, run_id)}/{TAGS_RECORD}", {"tags": sorted(tags)})


def step_names(ds: Datastore, run_id: str) -> list[str]:
    """Steps with a directory in the run; names with a dot (run.json, exit_hook.*) are not steps."""
    return [n for n in children(ds, run_prefix(ds.flow, run_id)) if "." not in n]


# -- tasks -----------------------------------------------------------------------
def task_ids(ds: Datastore, run_id: str, step: str) -> list[str]:
    """The step's task ids (``datastore.split_task_id`` tells a task folder from a stray name),
    in numeric order of their components, each visit of a loop step after the one before."""
    try:
        check_name("step", step)  # "start/0" must not list the attempts of a task as tasks
    except InvalidName:
        return []
    ids = [(parsed, t) for t in children(ds, f"{run_prefix(ds.flow, run_id)}/{step}")
           for parsed in [split_task_id(t)] if parsed is not None]
    return [t for (base, visit), t in sorted(ids, key=lambda e: ([int(p) for p in e[0][0].split(".")], e[0][1]))]


def attempts(ds: Datastore, run_id: str, step: str, task_id: str) -> list[int]:
    names = children(ds, task_prefix(ds.flow, run_id, step, task_id))
    return sorted(int(n) for n in names if n.isdigit())


def attempt_record(ds: Datastore, run_id: str, step: str, task_id: str, attempt: int) -> dict | None:
    """The attempt's commit (record.json), None when not committed or unreadable."""
    return read_json(ds, f"{attempt_prefix(ds.flow, run_id, step, task_id, attempt)}/record.json")


def attempt_started(ds: Datastore, run_id: str, step: str, task_id: str, attempt: int) -> dict:
    return read_json(ds, f"{attempt_prefix(ds.flow, run_id, step, task_id, attempt)}/started.json") or {}


def latest_record(ds: Datastore, run_id: str, step: str, task_id: str, ok_only: bool) -> dict | None:
    for attempt in reversed(attempts(ds, run_id, step, task_id)):
        record = attempt_record(ds, run_id, step, task_id, attempt)
        if record is None:
            continue
        if not ok_only or record.get("status") == "ok":
            return record
    return None


def log_text(ds: Datastore, run_id: str, step: str, task_id: str, attempt: int, stream: str) -> str:
    return read_text(ds, f"{attempt_prefix(ds.flow, run_id, step, task_id, attempt)}/{stream}.log")


def code_package(ds: Datastore, sha: str) -> bytes | None:
    return ds.storage.get_bytes(f"{ds.flow}/code/{sha}.tar.gz")
