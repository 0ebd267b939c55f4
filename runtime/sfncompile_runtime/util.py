"""``metaflow.util``: the small helpers flows and Metaflow's test checker import."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from functools import wraps


def is_stringish(x) -> bool:
    """True for ``str`` and ``bytes``."""
    return isinstance(x, (str, bytes))


def to_unicode(x) -> str:
    return x.decode("utf-8") if isinstance(x, bytes) else str(x)


def to_bytes(x) -> bytes:
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, bytes):
        return x
    if isinstance(x, float):
        return repr(x).encode("utf-8")
    return str(x).encode("utf-8")


def to_fileobj(x) -> io.BytesIO:
    return io.BytesIO(to_bytes(x))


def all_equal(it) -> bool:
    it = iter(it)
    try:
        first = next(it)
    except StopIteration:
        return True
    return all(x == first for x in it)


def cached_property(getter):
    """A property computed once per instance (Metaflow's helper)."""
    saved = f"__{getter.__name__}"

    @wraps(getter)
    def once(self):
        if not hasattr(self, saved):
            setattr(self, saved, getter(self))
        return getattr(self, saved)

    return property(once)


class TempDir:
    """``with TempDir() as path:`` a directory removed on exit."""

    def __enter__(self) -> str:
        self.name = tempfile.mkdtemp()
        return self.name

    def __exit__(self, *exc):
        shutil.rmtree(self.name, ignore_errors=True)


def get_username() -> str | None:
    """The user runs are attributed to (Metaflow's order: METAFLOW_USER, SUDO_USER, USERNAME, USER; not root)."""
    for var in ("METAFLOW_USER", "SFNCOMPILE_USER", "SUDO_USER", "USERNAME", "USER"):
        user = os.environ.get(var)
        if user and user != "root":
            return user
    return None


def resolve_identity_as_tuple() -> tuple[str, str]:
    from .exceptions import MetaflowUnknownUser

    token = os.environ.get("METAFLOW_PRODUCTION_TOKEN")
    if token:
        return "production", token
    user = get_username()
    if not user:
        raise MetaflowUnknownUser()
    return "user", user


def resolve_identity() -> str:
    kind, value = resolve_identity_as_tuple()
    return f"{kind}:{value}"


def which(cmd: str, mode: int = os.F_OK | os.X_OK, path: str | None = None) -> str | None:
    return shutil.which(cmd, mode, path)


def dict_to_cli_options(params: dict):
    """``{"alpha": 1, "flag": True}`` → ``--alpha 1 --flag`` words (Metaflow's helper)."""
    for name, value in params.items():
        if value is None or value is False:
            continue
        option = "--" + name.replace("_", "-")
        if value is True:
            yield option
        elif isinstance(value, (list, tuple, set)):
            for item in value:
                yield option
                yield str(item)
        else:
            yield option
            yield str(value)
