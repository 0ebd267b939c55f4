"""A cache of validated flow graphs, so that re-running an unchanged flow skips the front end.

Parsing and linting a flow (libcst) is the largest fixed cost of a local run.
The graph is a pure function of the flow file's text and path and of the
compiler's own source, so the cache key is a hash of exactly those; only a
clean result (no error) of a flow without ``Config``s is cached (a config's
value comes from files and options outside the key). ``SFNCOMPILE_NO_GRAPH_CACHE=1`` turns it off.

A second entry, keyed without the flow's directory but with the contents of the
files beside it, serves the same flow copied elsewhere (``_moved_key``): its
graph is the one parsing the copy gives, every span naming the copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

_COMPILER_FINGERPRINT: str | None = None


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sfncompile" / "graphs"


def compiler_fingerprint() -> str:
    """Hash of the compiler's Python sources (names, sizes and mtimes: cheap, and any edit changes it)."""
    global _COMPILER_FINGERPRINT
    if _COMPILER_FINGERPRINT is None:
        package = Path(__file__).resolve().parents[1]
        digest = hashlib.sha256()
        for path in sorted(package.rglob("*.py")):
            stat = path.stat()
            digest.update(f"{path.relative_to(package)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        _COMPILER_FINGERPRINT = digest.hexdigest()
    return _COMPILER_FINGERPRINT


def cache_key(path: Path, source: bytes, flow: str | None, with_specs=()) -> str:
    from ..decospecs import cache_text

    digest = hashlib.sha256()
    digest.update(compiler_fingerprint().encode())
    digest.update(b"\0" + str(path).encode() + b"\0" + (flow or "").encode() + b"\0")
    digest.update(cache_text(with_specs).encode() + b"\0")
    digest.update(source)
    return digest.hexdigest()


def load_graph_cached(path: str | os.PathLike, flow: str | None = None, with_specs=()):
    from ..ir import FlowGraph
    from ..pipeline import load_graph, read_source

    if os.environ.get("SFNCOMPILE_NO_GRAPH_CACHE"):
        return load_graph(path, flow, with_specs)
    source = read_source(path)
    key = cache_key(Path(path), source, flow, with_specs)
    entry = _cache_dir() / f"{key}.json"
    try:
        cached = FlowGraph.from_json(_read_entry(entry))
        if not cached.configs:
            return cached
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    moved = _moved_key(Path(path), source, flow, with_specs)
    moved_entry = _cache_dir() / f"moved-{moved}.json" if moved else None
    if moved_entry is not None:
        try:
            data = json.loads(_read_entry(moved_entry))
            graph = FlowGraph.from_dict(_relocate(data, data["file"], str(path)))
            if not graph.configs:
                _write_entry(entry, graph.to_json())
                return graph
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            pass
    graph = load_graph(path, flow, with_specs)  # raises UserError on errors: nothing cached
    if not graph.configs:
        # A flow with configs also depends on their files, --config/--config-value and the
        # METAFLOW_FLOW_CONFIG* variables, none of them in the key: it is read afresh each time.
        text = graph.to_json()
        _write_entry(entry, text)
        if moved_entry is not None:
            _write_entry(moved_entry, text)
    return graph


# The same flow in another directory (a copy, a fresh checkout, a benchmark's temporary
# directory) reads the same graph when everything the front end can read is the same: the
# flow's text and file name, and the files beside it (sibling modules whose constants it
# evaluates, config files). What it could read from further away (a config file in a
# subdirectory or given by path, ``from .. import``) is not fingerprinted, so flows that
# can do that are not reused across directories.
_READS_FURTHER = (b"Config", b"config_expr", b"IncludeFile", b"from ..")
MOVED_MAX_FILES = 200
MOVED_MAX_BYTES = 4 * 1024 * 1024


def _moved_key(path: Path, source: bytes, flow: str | None, with_specs=()) -> str | None:
    """A key without the flow's directory (None when the flow may read beyond it)."""
    from ..decospecs import cache_text

    if any(marker in source for marker in _READS_FURTHER):
        return None
    directory = path.resolve().parent
    try:
        files = sorted((entry for entry in os.scandir(directory) if entry.is_file()), key=lambda entry: entry.name)
    except OSError:
        return None
    if len(files) > MOVED_MAX_FILES:
        return None
    digest = hashlib.sha256()
    digest.update(compiler_fingerprint().encode())
    digest.update(b"\0" + path.name.encode() + b"\0" + (flow or "").encode() + b"\0")
    digest.update(cache_text(with_specs).encode() + b"\0")
    digest.update(source)
    total = 0
    for entry in files:
        try:
            if entry.stat().st_size + total > MOVED_MAX_BYTES:
                return None
            with open(entry.path, "rb") as src:
                data = src.read()
        except OSError:
            return None
        total += len(data)
        digest.update(b"\0" + entry.name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _relocate(value, old: str, new: str):
    """The graph's JSON with every ``file`` that named the flow file as ``old`` naming ``new``."""
    if isinstance(value, dict):
        out = {k: _relocate(v, old, new) for k, v in value.items()}
        if out.get("file") == old:
            out["file"] = new
        return out
    if isinstance(value, list):
        return [_relocate(v, old, new) for v in value]
    return value


_ENTRY_HEADER = "sfncompile-graph-sha256 "


def _read_entry(entry: Path) -> str:
    """A graph entry's text, checked against the sha256 it was written with: a flipped bit
    that still parses (a step name, a retry count) must not become the flow's graph. A damaged
    or old-format entry raises ValueError (a cache miss: the flow is parsed and the entry rewritten)."""
    header, _, text = entry.read_text().partition("\n")
    if not header.startswith(_ENTRY_HEADER) or header[len(_ENTRY_HEADER):] != hashlib.sha256(text.encode()).hexdigest():
        raise ValueError(f"graph cache entry {entry} is damaged")
    return text


def _write_entry(entry: Path, text: str, checked: bool = True) -> None:
    """Replace ``entry`` atomically (a concurrent run reads the old or the new text, never half);
    graph entries carry their sha256 (``_read_entry``)."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            if checked:
                out.write(_ENTRY_HEADER + hashlib.sha256(text.encode()).hexdigest() + "\n")
            out.write(text)
        os.replace(tmp, entry)
    except OSError:
        pass  # a read-only home: run without the cache


def _package_fingerprint(graph, flow_path: Path) -> str:
    """Hash of what ``build_code_package`` would read (names, sizes, mtimes) and of the graph."""
    from ..package import flow_sources, runtime_files

    flow_file = flow_path.resolve()
    digest = hashlib.sha256()
    files = [(rel, flow_file.parent / rel) for rel in flow_sources(flow_file)]
    files.append((flow_file.name, flow_file))
    files.extend(runtime_files().items())
    for rel, path in files:
        stat = path.stat()
        digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    digest.update(graph.to_json().encode())
    return digest.hexdigest()


def stored_code_package(graph, flow_path: Path, root: str) -> tuple[str, str]:
    """(code URL, sha256) of the flow's code package in ``root``, building and storing it when needed.

    Building means reading and compressing every source file; when nothing it
    reads has changed since the last run and the package is in the datastore,
    the stored one is reused.
    """
    from sfncompile_runtime.storage import open_storage

    from ..package import build_code_package, code_key, store_code_package, stored_package_intact

    fingerprint = None if os.environ.get("SFNCOMPILE_NO_GRAPH_CACHE") else _package_fingerprint(graph, flow_path)
    entry = _cache_dir().parent / "packages" / f"{fingerprint}.sha256" if fingerprint else None
    if entry is not None:
        try:
            sha = entry.read_text().strip()
            storage = open_storage(root)
            key = code_key(graph.name, sha)
            if sha and stored_package_intact(storage, key, sha):
                return storage.url(key), sha
        except OSError:
            pass
    package = build_code_package(graph, flow_path)
    url = store_code_package(package, root, graph.name)
    if entry is not None:
        _write_entry(entry, package.sha256, checked=False)  # a sha256 itself, checked against the package
    return url, package.sha256
