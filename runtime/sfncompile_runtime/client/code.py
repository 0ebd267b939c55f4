"""A run's code package, as the client sees it: ``Task.code``/``Run.code``, the
flow's ``graph.json`` (for lineage and foreach paths) and the flow module
(imported to unpickle classes defined in the flow file).

A package is fetched once per process and unpacked once per machine (its
name is its sha256, so an unpacked copy is never stale).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile

from . import records

_graphs: dict = {}


def _unpack_dir(sha: str) -> str:
    # Private to this user (0700, ours, not a link): a folder named after a package's sha256 is
    # imported from (import_flow_module), and a shared temp folder would let another user plant
    # one first. Everything in it was verified before it got its name (rename last).
    from ..cachedirs import user_temp_dir

    return os.path.join(user_temp_dir("sfncompile-client-code"), sha)


def package_bytes(ds, sha: str) -> bytes | None:
    """The package ``sha``'s bytes; None when absent, unreadable or not hashing to its name
    (warned, naming it): a damaged package is never unpacked, imported or drawn."""
    if not sha:
        return None
    try:
        data = records.code_package(ds, sha)
    except OSError as exc:
        records.warn_unreadable(ds.storage.url(f"{ds.flow}/code/{sha}.tar.gz"), str(exc))
        return None
    if data is not None and hashlib.sha256(data).hexdigest() != sha:
        records.warn_unreadable(ds.storage.url(f"{ds.flow}/code/{sha}.tar.gz"),
                                "it does not hash to its name (damaged); a new run of the flow stores it again")
        return None
    return data


def unpacked(ds, sha: str) -> str | None:
    """A directory holding the unpacked package ``sha``, or None when it is not in the datastore."""
    target = _unpack_dir(sha)
    if os.path.isdir(target):
        return target
    data = package_bytes(ds, sha)
    if data is None:
        return None
    tmp = f"{target}.tmp{os.getpid()}"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(tmp, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    try:
        os.rename(tmp, target)
    except OSError:  # another process unpacked it first: same content
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def graph(ds, sha: str | None) -> dict | None:
    """The flow's graph.json from package ``sha`` (cached), None when unavailable."""
    if not sha:
        return None
    key = (ds.storage.url(""), sha)
    if key not in _graphs:
        where = unpacked(ds, sha)
        found = None
        if where is not None:
            try:
                with open(os.path.join(where, "graph.json")) as src:
                    found = json.load(src)
            except (OSError, ValueError):
                found = None
        _graphs[key] = found
    return _graphs[key]


def _manifest(where: str) -> dict:
    with open(os.path.join(where, "sfncompile_package.json")) as src:
        return json.load(src)


def import_flow_module(ds, sha: str | None, module: str | None, missing: str | None) -> bool:
    """Make the flow module importable from its code package (for unpickling a
    class the flow file defines). False when that is not what is missing."""
    if not sha or not module or missing != module or module in sys.modules:
        return False
    where = unpacked(ds, sha)
    if where is None:
        return False
    _provide_metaflow_names()
    spec = importlib.util.spec_from_file_location(module, os.path.join(where, _manifest(where)["flow_file"]))
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[module]
        raise
    return True


def _provide_metaflow_names() -> None:
    """A flow written for Metaflow imports ``metaflow``: a real install is fine,
    else the public ``sfncompile`` package (the same names) stands in."""
    if "metaflow" in sys.modules:
        return
    try:
        import metaflow  # noqa: F401
    except ImportError:
        import sfncompile

        sys.modules["metaflow"] = sfncompile


class MetaflowCode:
    """The code package a task ran (Metaflow's ``MetaflowCode`` shape)."""

    def __init__(self, flow_name: str, ds, sha: str):
        self._flow_name = flow_name
        self._ds = ds
        self._sha = sha

    @property
    def path(self) -> str:
        return self._ds.storage.url(f"{self._flow_name}/code/{self._sha}.tar.gz")

    @property
    def sha(self) -> str:
        return self._sha

    @property
    def info(self) -> dict:
        where = unpacked(self._ds, self._sha)
        manifest = _manifest(where) if where else {}
        return {"script": manifest.get("flow_file"), "flow_name": self._flow_name, **manifest}

    @property
    def script_name(self) -> str | None:
        return self.info.get("script")

    @property
    def flowspec(self) -> str | None:
        where = unpacked(self._ds, self._sha)
        script = self.script_name
        if where is None or not script:
            return None
        with open(os.path.join(where, script)) as src:
            return src.read()

    @property
    def tarball(self) -> tarfile.TarFile:
        return tarfile.open(fileobj=io.BytesIO(package_bytes(self._ds, self._sha) or b""))

    def extract(self) -> tempfile.TemporaryDirectory:
        """The package unpacked in a new temporary directory (removed when it is cleaned up)."""
        target = tempfile.TemporaryDirectory()
        with self.tarball as tar:
            tar.extractall(target.name, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        return target

    def __eq__(self, other) -> bool:
        return isinstance(other, MetaflowCode) and (self._flow_name, self._sha) == (other._flow_name, other._sha)

    def __hash__(self) -> int:
        return hash((self._flow_name, self._sha))

    def __str__(self) -> str:
        return f"<MetaflowCode: {self.script_name}>"
