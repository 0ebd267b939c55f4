"""``metadata``/``get_metadata``/``default_metadata`` and ``profile`` (Metaflow's names).

sfncompile keeps run metadata in its datastore, so the "metadata provider" is
the datastore root the client reads: ``local@<dir>`` or ``s3@s3://bucket/prefix``.
``metadata("local@/path")`` (or a bare path / ``s3://`` URL) points the client
at another root; Metaflow's service provider does not exist here.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from . import envnames
from .exceptions import MetaflowException

_DEFAULT_ROOT = os.environ.get(envnames.DATASTORE)


def get_metadata() -> str:
    root = os.environ.get(envnames.DATASTORE) or os.path.abspath(envnames.DEFAULT_DATASTORE)
    return f"s3@{root}" if root.startswith("s3://") else f"local@{root}"


def metadata(ms: str) -> str:
    """Point the client at the datastore ``ms`` names; returns ``get_metadata()``."""
    kind, _, where = ms.partition("@")
    if not where and kind not in ("local", "s3"):
        kind, where = ("s3" if ms.startswith("s3://") else "local"), ms
    if kind not in ("local", "s3"):
        raise MetaflowException(f"metadata provider '{kind}' is not supported: sfncompile reads runs from its "
                                "datastore (local@DIR or s3@s3://bucket/prefix)")
    if where:
        os.environ[envnames.DATASTORE] = where if where.startswith("s3://") else os.path.abspath(where)
    return get_metadata()


def default_metadata() -> str:
    """Back to the datastore this process started with."""
    if _DEFAULT_ROOT:
        os.environ[envnames.DATASTORE] = _DEFAULT_ROOT
    else:
        os.environ.pop(envnames.DATASTORE, None)
    return get_metadata()


@contextmanager
def profile(label, stats_dict=None):
    """Time the block: print Metaflow's ``PROFILE:`` lines, or add the milliseconds to ``stats_dict[label]``."""
    if stats_dict is None:
        print(f"PROFILE: {label} starting")
    start = time.time()
    yield
    took = int((time.time() - start) * 1000)
    if stats_dict is None:
        print(f"PROFILE: {label} completed in {took}ms")
    else:
        stats_dict[label] = stats_dict.get(label, 0) + took
