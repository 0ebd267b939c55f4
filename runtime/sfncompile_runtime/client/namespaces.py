"""The client's namespace (Metaflow's semantics).

A namespace is a tag: ``user:<name>`` and ``production:<token>`` are system
tags of every run, and any user tag works too. Objects outside the current
namespace are not listed, and fetching one by pathspec raises
``MetaflowNamespaceMismatch``; ``namespace(None)`` is the global namespace.
The default, set lazily on first use, is the running task's namespace inside
a task and ``user:<you>`` elsewhere.
"""

from __future__ import annotations

from ..datastore import default_user

_UNSET = object()
_current = _UNSET


def namespace(ns: str | None) -> str | None:
    """Switch to namespace ``ns`` (None: everything); returns ``get_namespace()``."""
    global _current
    _current = ns
    return get_namespace()


def default_namespace() -> str:
    """Back to the default namespace; returns it."""
    global _current
    from ..current import current

    if current.is_running_flow and current.namespace:
        _current = current.namespace
    else:
        _current = f"user:{default_user()}"
    return _current


def get_namespace() -> str | None:
    if _current is _UNSET:
        return default_namespace()
    return _current


def reset() -> None:
    """Forget any namespace set, so the next use takes the default again."""
    global _current
    _current = _UNSET


def in_namespace(tags, ns: str | None) -> bool:
    return ns is None or ns in tags
