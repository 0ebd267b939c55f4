"""The code package: one deterministic, content-addressed tarball per flow version.

It holds the flow file, the Python files of the flow's directory tree (minus
an ignore list), ``graph.json`` (the IR the runtime reads instead of importing
the compiler), a small ``sfncompile_package.json`` naming the flow file, and
the ``sfncompile_runtime`` package itself, so any image with Python (and
boto3 for S3) can run a step. Same inputs → byte-identical tarball → same
sha256: entries are sorted, and mtimes, owners and modes are fixed.

Stored at ``<root>/<Flow>/code/<sha256>.tar.gz`` (skipped when an intact copy is there; a
damaged one is replaced).
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .diagnostics import UserError

IGNORE_FILE = ".sfncompileignore"
DEFAULT_IGNORE = (
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "__pycache__", ".sfncompile",
    "node_modules", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist",
    "*.egg-info", "cdk.out", ".ipynb_checkpoints", ".idea", ".vscode",
)
MANIFEST = "sfncompile_package.json"
MAX_FILES = 5000
MAX_BYTES = 64 * 2**20


class PackageTooLarge(UserError):
    """The flow's directory tree is too big to ship (the CLI shows it as a UserError)."""
RUNTIME_PACKAGE = "sfncompile_runtime"


@dataclass(frozen=True)
class CodePackage:
    data: bytes
    sha256: str
    files: tuple[str, ...] = ()

    def key(self, flow_name: str) -> str:
        return code_key(flow_name, self.sha256)


def code_key(flow_name: str, sha256: str) -> str:
    return f"{flow_name}/code/{sha256}.tar.gz"


def read_ignore_file(directory: Path) -> list[str]:
    path = directory / IGNORE_FILE
    if not path.is_file():
        return []
    patterns = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line.rstrip("/"))
    return patterns


def _ignored(rel: str, patterns: Iterable[str]) -> bool:
    parts = rel.split("/")
    for pattern in patterns:
        anchored = pattern.startswith("/")
        pat = pattern.lstrip("/")
        if "/" in pat or anchored:
            if fnmatch.fnmatchcase(rel, pat) or any(
                    fnmatch.fnmatchcase("/".join(parts[:i]), pat) for i in range(1, len(parts))):
                return True
        elif any(fnmatch.fnmatchcase(part, pat) for part in parts):
            return True
    return False


def _source_files(flow_dir: Path, patterns: list[str]) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(flow_dir):
        rel_dir = os.path.relpath(dirpath, flow_dir).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not _ignored(rel_dir + d, patterns))
        for name in filenames:
            rel = rel_dir + name
            if name.endswith(".py") and not _ignored(rel, patterns):
                found.append(rel)
    return found


def flow_sources(flow_file: Path, ignore: Iterable[str] = ()) -> list[str]:
    """The flow directory's Python files a package ships (paths relative to it): what
    the ignore lists leave, minus a copy of the runtime (the one shipped wins)."""
    flow_dir = flow_file.parent
    patterns = list(DEFAULT_IGNORE) + read_ignore_file(flow_dir) + list(ignore)
    return [rel for rel in _source_files(flow_dir, patterns) if rel.split("/")[0] != RUNTIME_PACKAGE]


def runtime_files() -> dict[str, Path]:
    import sfncompile_runtime

    base = Path(sfncompile_runtime.__file__).resolve().parent
    out = {}
    for path in sorted(base.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        out[f"{RUNTIME_PACKAGE}/{path.relative_to(base).as_posix()}"] = path
    return out


def _graph_json(graph: Any) -> str:
    if hasattr(graph, "to_json"):
        return graph.to_json()
    return json.dumps(graph, indent=2) + "\n"


def _graph_name(graph: Any) -> str:
    return graph.name if hasattr(graph, "name") else graph["name"]


def build_code_package(graph: Any, flow_path: str | os.PathLike, ignore: Iterable[str] | None = None) -> CodePackage:
    """A deterministic tarball for ``graph`` (FlowGraph or its dict) and the flow at ``flow_path``."""
    flow_file = Path(flow_path).resolve()
    flow_dir = flow_file.parent
    entries: dict[str, bytes] = {}
    total = 0
    for rel in flow_sources(flow_file, ignore or ()):
        try:
            entries[rel] = (flow_dir / rel).read_bytes()
        except (FileNotFoundError, PermissionError):
            continue  # vanished or unreadable while we walked: not part of the flow
        total += len(entries[rel])
        if len(entries) > MAX_FILES or total > MAX_BYTES:
            raise PackageTooLarge(
                f"the code package of {flow_file.name} would hold more than {MAX_FILES} Python files or "
                f"{MAX_BYTES // 2**20} MiB from {flow_dir}; move the flow into its own directory or list what "
                f"to leave out in {flow_dir / IGNORE_FILE}")
    flow_rel = flow_file.name
    entries[flow_rel] = flow_file.read_bytes()  # even if ignored or not named *.py
    for rel, path in runtime_files().items():
        entries[rel] = path.read_bytes()
    entries["graph.json"] = _graph_json(graph).encode()
    # Every file's sha256: the bootstrap checks what it extracted against this before anything
    # from the package runs, and marks the directory verified last (docs/runtime.md).
    files = {rel: hashlib.sha256(data).hexdigest() for rel, data in entries.items()}
    entries[MANIFEST] = json.dumps({"flow": _graph_name(graph), "flow_file": flow_rel, "files": files,
                                    "module": flow_module_name(flow_rel)}, sort_keys=True).encode()
    data = _tarball(entries)
    return CodePackage(data=data, sha256=hashlib.sha256(data).hexdigest(), files=tuple(sorted(entries)))


def flow_module_name(flow_rel: str) -> str:
    """The name the runtime imports the flow under (pickles of classes defined in the
    flow refer to it): the file's stem, unless that would shadow a standard-library
    module or one of ours (a flow saved as ``random.py`` must not replace ``random``)."""
    import sys

    stem = flow_rel[:-3] if flow_rel.endswith(".py") else "flow"
    taken = set(getattr(sys, "stdlib_module_names", ())) | {"sfncompile", "sfncompile_runtime", "metaflow"}
    if not stem.isidentifier() or stem in taken:
        return f"sfncompile_flow_{''.join(c if c.isalnum() else '_' for c in stem)}"
    return stem


def _tarball(entries: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = sorted({"/".join(name.split("/")[:i]) for name in entries for i in range(1, name.count("/") + 1)})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            _fix(info)
            tar.addfile(info)
        for name in sorted(entries):
            info = tarfile.TarInfo(name)
            info.size = len(entries[name])
            info.mode = 0o644
            _fix(info)
            tar.addfile(info, io.BytesIO(entries[name]))
    out = io.BytesIO()
    # Level 1: a new package is built for every new flow text or directory, before the first task;
    # level 6 took 13 ms for the runtime's ~480 KB against 4 ms, for 124 KB instead of 149 KB.
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=1) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def _fix(info: tarfile.TarInfo) -> None:
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""


def store_code_package(package: CodePackage, root: str, flow_name: str) -> str:
    """Put the package at ``<root>/<Flow>/code/<sha256>.tar.gz`` unless present; returns its URL.

    The URL is what ``SFNCOMPILE_CODE_URL`` holds: ``s3://...`` or an absolute path.
    """
    from sfncompile_runtime.storage import open_storage

    storage = open_storage(root)
    key = package.key(flow_name)
    if not stored_package_intact(storage, key, package.sha256):
        storage.put_bytes(key, package.data)  # atomic: a damaged copy is replaced whole
    return storage.url(key)


def stored_package_intact(storage, key: str, sha256: str) -> bool:
    """Whether ``key`` holds exactly the package ``sha256`` names. A damaged copy (a flipped
    bit, a truncated upload) is reported and must be written again: tasks refuse it."""
    data = storage.get_bytes(key)
    if data is None:
        return False
    if hashlib.sha256(data).hexdigest() == sha256:
        return True
    import sys

    print(f"sfncompile: warning: the stored code package {storage.url(key)} does not match its sha256; "
          "storing it again", file=sys.stderr)
    return False

