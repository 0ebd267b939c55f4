"""The datastore: content-addressed artifact blobs and run/task/attempt records.

Layout (one for a local directory and for ``s3://bucket/prefix``; see
docs/datastore.md)::

    <root>/<Flow>/code/<sha256>.tar.gz
    <root>/<Flow>/data/<sha256[:2]>/<sha256>            artifact blobs
    <root>/<Flow>/runs/<run_id>/run.json                 run record
    <root>/<Flow>/runs/<run_id>/<step>/<task_id>/<attempt>/started.json
    <root>/<Flow>/runs/<run_id>/<step>/<task_id>/<attempt>/stdout.log, stderr.log
    <root>/<Flow>/runs/<run_id>/<step>/<task_id>/<attempt>/record.json   the commit

A blob's name is the sha256 of its *pickle* (protocol 5), whatever its stored
encoding, so the same value is stored once. Pickles are streamed: large
objects go from ``pickle.dump`` through a hashing writer into a scratch file
(never a second copy in memory), then to their content address (a rename
locally; a parallel multipart upload on S3). Compression (zlib level 1) is
used only when a sample of the first MiB shrinks by ≥ 20 %.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import sys
import time
import zlib
from typing import Any

from .storage import Storage, UnreadableEntry, open_regular, open_storage

PICKLE_PROTOCOL = 5
SMALL = 1 << 20  # below this a pickle stays in memory and is written in one request
SAMPLE = 256 << 10
CHUNK = 8 << 20
COMPRESS_MIN = 4096
COMPRESS_GAIN = 0.8  # never compress what a sample shrinks by less than 20 %
# Bytes per second the storage moves (write now + read later), for the "does it pay" rule;
# SFNCOMPILE_STORAGE_MBPS overrides. zlib level 1 runs at ~150-250 MB/s on one core.
LOCAL_BANDWIDTH = 400e6
S3_BANDWIDTH = 100e6
RAW, ZLIB = "raw", "zlib"
_ZLIB_MAGIC = b"\x78"  # zlib header byte (deflate, 32 KiB window); pickles start with 0x80


class InvalidName(ValueError):
    """A flow name, run id, step or task id that cannot be one path component of the datastore."""


# One component of a key: no separator, no "..", no leading dot (Step Functions execution names,
# our run ids, step names, foreach index paths and exit-hook folders all fit).
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+=-]{0,199}")
_SHA = re.compile(r"[0-9a-f]{64}")


def check_name(kind: str, value: str) -> str:
    """``value`` if it is a safe key component, else ``InvalidName`` saying why: a run id such as
    ``../other`` must never address a record outside the datastore."""
    if not isinstance(value, str) or not _NAME.fullmatch(value) or ".." in value:
        raise InvalidName(f"{kind} {value!r} is not valid: use letters, digits and _ . : @ + = - "
                          "(no '/', no '..', not starting with '.')")
    return value


def blob_key(flow: str, sha: str) -> str:
    if not isinstance(sha, str) or not _SHA.fullmatch(sha):
        raise InvalidName(f"artifact reference {sha!r} is not a sha256")
    return f"{check_name('flow name', flow)}/data/{sha[:2]}/{sha}"


def run_prefix(flow: str, run_id: str) -> str:
    return f"{check_name('flow name', flow)}/runs/{check_name('run id', run_id)}"


def task_prefix(flow: str, run_id: str, step: str, task_id: str) -> str:
    return f"{run_prefix(flow, run_id)}/{check_name('step', step)}/{check_name('task id', task_id)}"


def attempt_prefix(flow: str, run_id: str, step: str, task_id: str, attempt: int) -> str:
    return f"{task_prefix(flow, run_id, step, task_id)}/{attempt}"


def step_numbers(graph: dict) -> dict[str, int]:
    """Each step's number in task ids: its position (from 1) in a topological order of the
    graph from ``start`` (a switch loop's edge back is left out), ties in the order the walk
    reaches them along ``out_funcs``; steps it never reaches follow in source order.

    A function of the graph alone, so that every process (the local executor, a Batch job, a
    Map iteration) computes the same ids without coordination, whatever order the steps are
    written in. Numbers grow along every path, as Metaflow's ids do in a local run: start is 1,
    a join comes after its branches, end is last; a linear flow's tasks get Metaflow's own ids."""
    steps = graph["steps"]
    start = graph.get("start") if graph.get("start") in steps else next(iter(steps), None)
    order: list[str] = []
    if start is not None:
        back = _back_edges(steps, start)
        waiting = {name: 0 for name in steps}
        for name, node in steps.items():
            for child in node.get("out_funcs") or []:
                if child in waiting and (name, child) not in back:
                    waiting[child] += 1
        ready, seen = [start], {start}
        while ready:
            name = ready.pop(0)
            order.append(name)
            for child in steps[name].get("out_funcs") or []:
                if child not in steps or (name, child) in back:
                    continue
                waiting[child] -= 1
                if waiting[child] == 0 and child not in seen:
                    seen.add(child)
                    ready.append(child)
    placed = set(order)
    order += [name for name in steps if name not in placed]
    return {name: number for number, name in enumerate(order, start=1)}


def _back_edges(steps: dict, start: str) -> set[tuple[str, str]]:
    """The edges that close a cycle (a switch looping back), found by a depth-first walk."""
    back: set[tuple[str, str]] = set()
    on_path: set[str] = set()
    done: set[str] = set()
    stack = [(start, iter(steps[start].get("out_funcs") or []))]
    on_path.add(start)
    while stack:
        name, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            on_path.discard(name)
            done.add(name)
        elif child in on_path:
            back.add((name, child))
        elif child in steps and child not in done:
            on_path.add(child)
            stack.append((child, iter(steps[child].get("out_funcs") or [])))
    return back


def task_id_for(graph: dict, step: str, index_path: str = "", visit: int = 0,
                numbers: dict[str, int] | None = None) -> str:
    """The task id of ``step`` at foreach ``index_path`` (its ``visit``-th run, 0-based, when the
    step is in a switch loop), unique within the run (docs/datastore.md, "Task ids"):
    ``<step number>`` at top level, ``<step number>.<index path>`` inside a foreach, and
    ``-<visit>`` after either for the second and later visits: ``3``, ``4.0.2``, ``5-1``.
    ``numbers``: ``step_numbers(graph)`` when the caller has it already."""
    number = (numbers if numbers is not None else step_numbers(graph)).get(step)
    if number is None:
        raise InvalidName(f"flow {graph.get('name')} has no step {step!r}")
    base = f"{number}.{index_path}" if index_path else str(number)
    return visit_task_id(base, visit)


def visit_task_id(base: str, visit: int) -> str:
    """The task id of the ``visit``-th run (0-based) of a step in a switch loop at the task
    ``base`` (``task_id_for(graph, step, index_path)``): ``base``, then ``<base>-1``, ``<base>-2`` ..."""
    return base if visit == 0 else f"{base}-{visit}"


def split_task_id(task_id: str) -> tuple[str, int] | None:
    """(base, visit) of a task id of either scheme (``3.0.1-2`` -> ``("3.0.1", 2)``); None for
    a name that is no task id (a stray file or folder)."""
    base, dash, visit = task_id.partition("-")
    if not base or not base.replace(".", "").isdigit() or "" in base.split(".") or (dash and not visit.isdigit()):
        return None
    return base, int(visit) if dash else 0


def index_path_in(task_id: str, depth: int) -> str | None:
    """The foreach index path a task id ends with, for a task ``depth`` foreach levels deep.

    Both schemes end a task id with the index path: run-unique ids (``<number>.<path>``) and the
    ids of runs made before them (``<path>``, ``0`` at top level). So the last ``depth``
    components are the path either way, and one listing of a step's folder maps its tasks to
    their paths without reading a record per task. None when the id has too few components."""
    parsed = split_task_id(task_id)
    if parsed is None:
        return None
    parts = parsed[0].split(".")
    if depth == 0:
        return ""
    if len(parts) < depth:
        return None
    return ".".join(parts[-depth:])


def compression_pays(sample, bandwidth: float) -> bool:
    """Compress (zlib level 1) only when it saves time end to end.

    Compressing a sample gives the ratio r and the compressor's speed C. Storing
    (and later loading) n bytes raw costs ~n/B each way; compressed, ~n/C + r·n/B
    (decompression is taken to cost about what compression does). That pays when
    C > B / (1 - r). Fast local disks rarely pass; S3 transfers of text-like
    data do. ``SFNCOMPILE_COMPRESSION=always|never`` overrides the rule.
    """
    policy = os.environ.get("SFNCOMPILE_COMPRESSION", "auto")
    sample = bytes(sample[:SAMPLE])
    if len(sample) < COMPRESS_MIN or policy == "never":
        return False
    start = time.perf_counter()
    packed = len(zlib.compress(sample, 1))
    elapsed = max(time.perf_counter() - start, 1e-6)
    ratio = packed / len(sample)
    if ratio > COMPRESS_GAIN:
        return False
    if policy == "always":
        return True
    speed = len(sample) / elapsed
    return speed > bandwidth / (1.0 - ratio)


def storage_bandwidth(storage) -> float:
    override = os.environ.get("SFNCOMPILE_STORAGE_MBPS")
    if override:
        return float(override) * 1e6
    return LOCAL_BANDWIDTH if storage.is_local else S3_BANDWIDTH


class _BlobWriter:
    """A file-like sink for ``pickle.dump``: hashes everything, keeps small pickles in
    memory and spills large ones to a scratch file (compressed if the first MiB says so)."""

    def __init__(self, scratch_path_factory, bandwidth: float = LOCAL_BANDWIDTH):
        self._bandwidth = bandwidth
        import hashlib  # loads OpenSSL: only tasks that store something pay for it

        self._hash = hashlib.sha256()
        self._buffer = bytearray()
        self._file = None
        self._scratch_path_factory = scratch_path_factory
        self.scratch_path = None
        self._compressor = None
        self.size = 0
        self.stored_size = 0
        self.encoding = RAW
        self._hasher = None  # a one-thread pool: hashing overlaps writing for large payloads

    def _update_hash(self, data) -> None:
        if self._hasher is None and len(data) < CHUNK:
            self._hash.update(data)
            return
        if self._hasher is None:
            from concurrent.futures import ThreadPoolExecutor

            self._hasher = ThreadPoolExecutor(max_workers=1)  # one worker: updates stay in order
        self._hasher.submit(self._hash.update, data)

    def write(self, data) -> int:
        n = len(data)
        self._update_hash(data)  # sha256 and file writes both release the GIL
        self.size += n
        if self._file is None:
            if len(self._buffer) + n <= SMALL:
                self._buffer += data
                return n
            self._spill(data)  # never copy a large payload into the buffer
        else:
            self._emit(data)
        return n

    def _spill(self, first) -> None:
        self.scratch_path = self._scratch_path_factory()
        self._file = open(self.scratch_path, "wb")
        head = bytes(self._buffer[:SAMPLE])
        sample = head + bytes(memoryview(first).cast("B")[:max(0, SAMPLE - len(head))])
        if compression_pays(sample, self._bandwidth):
            self.encoding = ZLIB
            self._compressor = zlib.compressobj(1)
        pending, self._buffer = self._buffer, bytearray()
        if pending:
            self._emit(pending)
        self._emit(first)

    def _emit(self, data) -> None:
        if self._compressor is None:
            self.stored_size += len(data)
            self._file.write(data)
            return
        view = memoryview(data).cast("B")
        for start in range(0, len(view), CHUNK):  # bounded output buffers, whatever the input
            packed = self._compressor.compress(view[start:start + CHUNK])
            self.stored_size += len(packed)
            self._file.write(packed)

    def finish(self) -> tuple[str, bytes | None]:
        """(sha256, in-memory stored bytes or None when spilled to ``scratch_path``)."""
        if self._hasher is not None:
            self._hasher.shutdown(wait=True)
            self._hasher = None
        sha = self._hash.hexdigest()
        if self._file is None:
            data = bytes(self._buffer)
            if compression_pays(data, self._bandwidth):
                packed = zlib.compress(data, 1)
                if len(packed) <= COMPRESS_GAIN * len(data):
                    self.encoding = ZLIB
                    data = packed
            self.stored_size = len(data)
            return sha, data
        if self._compressor is not None:
            tail = self._compressor.flush()
            self.stored_size += len(tail)
            self._file.write(tail)
        self._file.close()
        return sha, None

    def abort(self) -> None:
        if self._hasher is not None:
            self._hasher.shutdown(wait=True)
        if self._file is not None:
            self._file.close()
        if self.scratch_path and os.path.exists(self.scratch_path):
            os.unlink(self.scratch_path)


class _ZlibReader(io.RawIOBase):
    """A streaming zlib decoder with the read/readinto/readline pickle.load wants."""

    def __init__(self, raw, chunk: int = 1 << 20):
        self._raw = raw
        self._d = zlib.decompressobj()
        self._pending = b""
        self._chunk = chunk

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        want = len(view)
        filled = 0
        while filled < want:
            if not self._pending:
                if self._d.eof:
                    break
                compressed = self._d.unconsumed_tail or self._raw.read(self._chunk)
                if not compressed:
                    self._pending = self._d.flush()
                    if not self._pending:
                        break
                else:
                    self._pending = self._d.decompress(compressed, max(want - filled, 1 << 16))
                continue
            take = min(len(self._pending), want - filled)
            view[filled:filled + take] = self._pending[:take]
            self._pending = self._pending[take:]
            filled += take
        return filled


class DatastoreIntegrityError(Exception):
    """A stored blob or record cannot be trusted: the message says which and what to do."""


class ArtifactMissing(DatastoreIntegrityError):
    """An artifact's blob is not in the datastore (deleted, or never fully stored)."""


class ArtifactCorrupted(DatastoreIntegrityError):
    """An artifact's blob does not hash to its name (damaged after it was written)."""


def _describe(name: str | None, step: str | None) -> str:
    what = f"artifact '{name}'" if name else "an artifact"
    return f"{what} (read in step '{step}')" if step else what


def _redo(step: str | None) -> str:
    return ("re-run the step that stored it (`sfncompile resume FLOW RUN_ID --step STEP`, or a new run): "
            "storing the value again replaces the blob")


def _missing_message(what: str, url: str, step: str | None) -> str:
    return f"{what} cannot be loaded: its blob {url} is missing from the datastore; {_redo(step)}"


def _corrupt_message(what: str, url: str, step: str | None, detail: str) -> str:
    return (f"{what} cannot be loaded: its blob {url} is damaged ({detail}), so the value is not used; "
            f"delete that blob, or {_redo(step)}")


def _check_digest(what: str, url: str, step: str | None, sha: str, size: int | None, digest: str,
                  got_size: int) -> None:
    if digest != sha:
        raise ArtifactCorrupted(_corrupt_message(what, url, step, f"its content hashes to sha256 {digest[:12]}…, "
                                                 f"not to its name {sha[:12]}…"))
    if size is not None and got_size != size:
        raise ArtifactCorrupted(_corrupt_message(what, url, step, f"{got_size} bytes instead of {size}"))


def _is_not_found(exc: BaseException) -> bool:
    response = getattr(exc, "response", None) or {}
    code = str((response.get("Error") or {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


class _HashingReader(io.RawIOBase):
    """Passes a stream through while hashing it: the bytes ``pickle.load`` reads are the
    bytes hashed, once, where they land (no copy). Large reads are split so that sha256
    of one chunk (on a worker thread; both release the GIL) overlaps reading the next.

    A chunk's hash is awaited before the next ``readinto``: only then may the caller
    (a BufferedReader refilling its buffer) reuse that memory."""

    def __init__(self, raw):
        self._raw = raw
        self._hash = hashlib.sha256()
        self._pending = None
        self._pool = None
        self.size = 0

    def readable(self) -> bool:
        return True

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def _update(self, view) -> None:
        if len(view) < CHUNK:
            self._hash.update(view)
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending = self._pool.submit(self._hash.update, view)

    def readinto(self, buffer) -> int:
        self._wait()
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            n = self._raw.readinto(view[filled:filled + CHUNK])
            if not n:
                break
            self._wait()
            self._update(view[filled:filled + n])
            filled += n
            self.size += n
            if len(view) <= CHUNK:
                break  # a small read: hand back what came
        return filled

    def drain(self) -> tuple[str, int]:
        """Read to the end (trailing bytes count too); (sha256 hex, total size)."""
        scratch = bytearray(1 << 16)
        while self.readinto(scratch):
            pass
        self._wait()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        return self._hash.hexdigest(), self.size


class Datastore:
    """Blobs and records of one flow under one root."""

    def __init__(self, root: str | Storage, flow: str):
        self.storage = root if isinstance(root, Storage) else open_storage(root)
        self.flow = flow
        self._known_blobs: set[str] = set()

    # -- blobs ---------------------------------------------------------------
    def put_artifact(self, value: Any) -> dict:
        """Store ``value``'s pickle under its sha256 (unless present); returns its ref."""
        writer = _BlobWriter(lambda: self.storage.tmp_path(f"{check_name('flow name', self.flow)}/data/scratch"),
                             storage_bandwidth(self.storage))
        try:
            pickle.dump(value, writer, protocol=PICKLE_PROTOCOL)
            sha, data = writer.finish()
        except BaseException:
            writer.abort()
            raise
        key = blob_key(self.flow, sha)
        present = sha in self._known_blobs or self._stored_intact(sha)
        if data is None:
            if present:
                os.unlink(writer.scratch_path)
            else:
                self.storage.put_file(key, writer.scratch_path, move=True)
        elif not present:
            self.storage.put_bytes(key, data)
        self._known_blobs.add(sha)
        return {"sha": sha, "size": writer.size, "stored": writer.stored_size, "enc": writer.encoding,
                "type": _type_name(value)}

    def _stored_intact(self, sha: str) -> bool:
        """Whether a usable copy of blob ``sha`` exists. A damaged one (a flipped bit, a
        truncated file) is not trusted: the caller writes its own copy over it, atomically."""
        if not self.storage.exists(blob_key(self.flow, sha)):
            return False
        try:
            intact = self.blob_is_intact(sha)
            why = "it does not hash to its name"
        except UnreadableEntry as exc:  # a symlink or a file we may not read: ours replaces it
            intact, why = False, str(exc)
        if intact is False:
            print(f"sfncompile: warning: the stored blob {self.storage.url(blob_key(self.flow, sha))} is damaged "
                  f"({why}); replacing it", file=sys.stderr)
        return bool(intact)

    def load_artifact(self, ref: dict, name: str | None = None, step: str | None = None) -> Any:
        """The value of ``ref``, verified against its sha256 and size while it streams.

        The blob's own first byte says how it is encoded (a pickle starts with 0x80,
        a zlib stream with 0x78), so a blob another task stored with the other
        encoding still loads. Every decoded byte goes through sha256 on its way to
        ``pickle.load`` (no second pass, no copy); a blob that does not hash to its
        name, or is missing, raises ``ArtifactCorrupted``/``ArtifactMissing`` naming
        the artifact, the blob and what to do. ``name``/``step`` only word the message.
        """
        sha = ref["sha"]
        key = blob_key(self.flow, sha)
        what = _describe(name, step)
        if (ref.get("stored") or 0) <= SMALL and not self.storage.is_local:
            data = self.storage.get_bytes(key)
            if data is None:
                raise ArtifactMissing(_missing_message(what, self.storage.url(key), step))
            try:
                if data[:1] == _ZLIB_MAGIC:
                    data = zlib.decompress(data)
            except zlib.error as exc:
                raise ArtifactCorrupted(_corrupt_message(what, self.storage.url(key), step, str(exc))) from None
            _check_digest(what, self.storage.url(key), step, sha, ref.get("size"),
                          hashlib.sha256(data).hexdigest(), len(data))
            self._known_blobs.add(sha)
            return pickle.loads(data)
        try:
            path, temporary = self.storage.local_copy(key)
        except FileNotFoundError:
            raise ArtifactMissing(_missing_message(what, self.storage.url(key), step)) from None
        except Exception as exc:  # S3: a 404 from the download is a missing blob too
            if _is_not_found(exc):
                raise ArtifactMissing(_missing_message(what, self.storage.url(key), step)) from None
            raise
        try:
            try:
                raw = open_regular(path)
            except FileNotFoundError:
                raise ArtifactMissing(_missing_message(what, self.storage.url(key), step)) from None
            except UnreadableEntry as exc:  # a symlink, a directory, no permission
                raise ArtifactCorrupted(_corrupt_message(what, self.storage.url(key), step, str(exc))) from None
            with raw:
                source = raw
                if raw.read(1) == _ZLIB_MAGIC:
                    raw.seek(0)
                    source = _ZlibReader(raw)
                else:
                    raw.seek(0)
                reader = _HashingReader(source)
                try:
                    value = pickle.load(io.BufferedReader(reader, 1 << 20))
                except Exception as exc:
                    digest, size = reader.drain()
                    if digest != sha or (ref.get("size") is not None and size != ref.get("size")):
                        raise ArtifactCorrupted(_corrupt_message(
                            what, self.storage.url(key), step, f"{type(exc).__name__}: {exc}")) from None
                    raise  # an intact blob that does not load here (e.g. a class this process lacks)
                digest, size = reader.drain()
                _check_digest(what, self.storage.url(key), step, sha, ref.get("size"), digest, size)
        finally:
            if temporary:
                os.unlink(path)
        self._known_blobs.add(sha)
        return value

    def blob_is_intact(self, sha: str) -> bool | None:
        """Whether the stored blob ``sha`` decodes to bytes that hash to its name (None: absent)."""
        key = blob_key(self.flow, sha)
        try:
            stream = self.storage.open_read(key)
        except Exception as exc:
            if isinstance(exc, FileNotFoundError) or _is_not_found(exc):
                return None
            raise
        try:
            head = stream.read(1)
            if not head:
                return False
            decoder = zlib.decompressobj() if head == _ZLIB_MAGIC else None
            digest = hashlib.sha256()
            chunk = head
            while chunk:
                digest.update(decoder.decompress(chunk) if decoder is not None else chunk)
                chunk = stream.read(CHUNK)
            if decoder is not None:
                if not decoder.eof:
                    return False
                digest.update(decoder.flush())
        except zlib.error:
            return False
        finally:
            stream.close()
        return digest.hexdigest() == sha

    # -- JSON records ----------------------------------------------------------
    def read_json(self, key: str) -> dict | None:
        """The record at ``key``; None when absent — or unreadable (truncated by a crash, damaged,
        not a regular file, the wrong shape), which is warned about once, naming it: one bad record
        must not break listing the others."""
        record, problem = self.read_json_checked(key)
        if problem is not None:
            warn_unreadable(self.storage.url(key), problem)
        return record

    def read_json_checked(self, key: str) -> tuple[dict | None, str | None]:
        """(the record at ``key`` or None, why it could not be used or None). Absent is (None, None)."""
        try:
            data = self.storage.get_bytes(key)
        except UnreadableEntry as exc:
            return None, str(exc)
        if data is None:
            return None, None
        record, problem = parse_record(key, data)
        return record, problem

    def write_json(self, key: str, record: dict) -> None:
        self.storage.put_bytes(key, json.dumps(record, sort_keys=True, default=str).encode())

    def read_run(self, run_id: str) -> dict | None:
        return self.read_json(f"{run_prefix(self.flow, run_id)}/run.json")

    def write_run(self, run_id: str, record: dict) -> None:
        self.write_json(f"{run_prefix(self.flow, run_id)}/run.json", record)

    def attempts(self, run_id: str, step: str, task_id: str) -> list[int]:
        names = self.storage.list_children(task_prefix(self.flow, run_id, step, task_id))
        return sorted(int(n) for n in names if n.isdigit())

    def attempt_record(self, run_id: str, step: str, task_id: str, attempt: int) -> dict | None:
        return self.read_json(f"{attempt_prefix(self.flow, run_id, step, task_id, attempt)}/record.json")

    def latest_record(self, run_id: str, step: str, task_id: str, ok_only: bool = True) -> dict | None:
        """The newest committed attempt (the newest successful one by default)."""
        for attempt in reversed(self.attempts(run_id, step, task_id)):
            record = self.attempt_record(run_id, step, task_id, attempt)
            if record is None:
                continue  # started but never committed (crashed or still running)
            if not ok_only or record.get("status") == "ok":
                return record
        return None

    def ok_records(self, run_id: str, step: str, task_id: str) -> list[dict]:
        """Every successful committed attempt, oldest first: one per visit of the task (a step
        in a switch loop is visited once per round; retries leave failed attempts between)."""
        found = []
        for attempt in self.attempts(run_id, step, task_id):
            record = self.attempt_record(run_id, step, task_id, attempt)
            if record is not None and record.get("status") == "ok":
                found.append(record)
        return found

    def visits(self, run_id: str, step: str, base: str) -> list[str]:
        """The task ids of the visits of a loop step at ``base`` so far, in order."""
        found = []
        for name in self.tasks(run_id, step):
            if name == base:
                found.append((0, name))
            elif name.startswith(base + "-") and name[len(base) + 1:].isdigit():
                found.append((int(name[len(base) + 1:]), name))
        return [name for _, name in sorted(found)]

    def tasks(self, run_id: str, step: str) -> list[str]:
        return self.storage.list_children(f"{run_prefix(self.flow, run_id)}/{step}")

    def find_task(self, run_id: str, step: str, index_path: str, visit: int = 0,
                  hint: str | None = None) -> str | None:
        """The id of ``run_id``'s task of ``step`` at foreach ``index_path`` (its ``visit``-th
        visit), as that task's own records say: what a resume clones from. Another run's ids
        need not follow this code's numbering (its graph may differ, or it predates run-unique
        ids), so nothing here computes one. ``hint`` (the id this code would give) is tried
        first: one read when the numbering did not change, one listing of the step otherwise."""
        if hint is not None and self._task_place(run_id, step, hint) == (index_path, visit):
            return hint
        depth = len(index_path.split(".")) if index_path else 0
        for name in self.tasks(run_id, step):
            parsed = split_task_id(name)
            if name == hint or parsed is None or parsed[1] != visit or index_path_in(name, depth) != index_path:
                continue
            if self._task_place(run_id, step, name) == (index_path, visit):
                return name
        return None

    def _task_place(self, run_id: str, step: str, task_id: str) -> tuple[str, int] | None:
        """(index path, visit) of a task as its newest readable record (or started.json) states
        them. Records before run-unique ids have no ``visit``: it is the id's ``-<k>`` suffix."""
        parsed = split_task_id(task_id)
        if parsed is None:
            return None
        for attempt in reversed(self.attempts(run_id, step, task_id)):
            prefix = attempt_prefix(self.flow, run_id, step, task_id, attempt)
            for name in ("record.json", "started.json"):
                record = self.read_json(f"{prefix}/{name}")
                if isinstance(record, dict) and "index_path" in record:
                    visit = record.get("visit")
                    return str(record.get("index_path") or ""), int(visit) if isinstance(visit, int) else parsed[1]
        return None


_NUMBER = (int, float)
_NONE = type(None)
_OPTIONAL_TEXT = (str, _NONE)
# What readers rely on, by record file name: a record that parses but has the wrong shape (a list,
# a string where a time goes — hand-edited, or another file copied over it) is as unusable as a
# truncated one and is skipped the same way, never a TypeError far away. Absent fields are allowed
# (older writers; the start step's own run record; an exit hook's record.json shares the name).
RECORD_SHAPES: dict[str, dict[str, tuple]] = {
    "run.json": {
        "version": (int,), "flow": (str,), "run_id": (str,), "created_at": _NUMBER,
        "finished_at": _NUMBER + (_NONE,), "status": _OPTIONAL_TEXT, "user": _OPTIONAL_TEXT,
        "system_tags": (list,), "tags": (list,), "parameters": (dict,), "origin_run_id": _OPTIONAL_TEXT,
        "rerun_steps": (list, _NONE), "production_token": _OPTIONAL_TEXT, "started_by": _OPTIONAL_TEXT,
        "end_step": _OPTIONAL_TEXT,
    },
    "record.json": {
        "status": (str,), "flow": (str,), "run_id": (str,), "step": (str,), "kind": (str,), "task_id": (str,),
        "index_path": (str,), "attempt": (int,), "retry_count": (int,), "mode": (str,), "user": _OPTIONAL_TEXT,
        "started_at": _NUMBER, "finished_at": _NUMBER, "exit_code": (int, _NONE), "artifacts": (dict,),
        "parameters": (list,), "foreach": (dict, _NONE), "branch": _OPTIONAL_TEXT, "exception": (dict, _NONE),
        "caught": (dict, _NONE), "code_sha256": _OPTIONAL_TEXT, "flow_module": _OPTIONAL_TEXT,
        "cloned_from": (dict, _NONE), "not_stored": (dict,), "hooks": (list,),
    },
    "started.json": {
        "attempt": (int,), "retry_count": (int,), "mode": (str,), "started_at": _NUMBER, "host": (str,),
        "pid": (int,), "index_path": (str,), "code_sha256": _OPTIONAL_TEXT, "python_version": _OPTIONAL_TEXT,
    },
    "tags.json": {"tags": (list,)},
}


_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_record(key: str, data: bytes) -> tuple[dict | None, str | None]:
    """(record, None) when ``data`` is a usable record for ``key``, else (None, why not).

    Usable: a JSON object whose known fields have their types (RECORD_SHAPES), whose artifact
    references are references, and that names the run (and step and task) its path says — a
    record copied or linked from another run must not stand in for this one's."""
    try:
        record = json.loads(data)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        return None, f"not valid JSON ({exc})"
    if not isinstance(record, dict):
        return None, f"a JSON {type(record).__name__}, not an object"
    if _ESCAPED_SURROGATE.search(data):  # "\udcff" alone is valid JSON but no text: every page would fail on it
        try:
            json.dumps(record, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return None, "it holds text that is not valid Unicode (a lone surrogate escape)"
    parts = key.split("/")
    for field, kinds in RECORD_SHAPES.get(parts[-1], {}).items():
        if field in record and not isinstance(record[field], kinds):
            return None, f"its field '{field}' is a {type(record[field]).__name__}"
    for field in ("system_tags", "tags", "parameters", "rerun_steps"):
        if isinstance(record.get(field), list) and not all(isinstance(v, str) for v in record[field]):
            return None, f"its field '{field}' holds something other than text"
    for name, ref in (record.get("artifacts") or {}).items():
        if not isinstance(ref, dict) or not isinstance(ref.get("sha"), str) or not _SHA.fullmatch(ref["sha"]):
            return None, f"its reference to artifact '{name}' is not a reference"
    cloned = record.get("cloned_from")
    if isinstance(cloned, dict) and not (isinstance(cloned.get("run_id"), str) and _NAME.fullmatch(cloned["run_id"])
                                         and ".." not in cloned["run_id"]
                                         and isinstance(cloned.get("attempt", 0), (int, _NONE))):
        return None, "its field 'cloned_from' does not name a run and attempt"
    if len(parts) >= 4 and parts[1] == "runs":
        expected = {"flow": parts[0], "run_id": parts[2]}
        if len(parts) == 7 and parts[-1] in ("record.json",) and "." not in parts[3]:
            expected.update(step=parts[3], task_id=parts[4])
        for field, value in expected.items():
            if field in record and record[field] != value:
                return None, f"it is the record of {field.replace('_', ' ')} {record[field]!r}, not of {value!r}"
    return record, None


_WARNED: set[str] = set()


def warn_unreadable(url: str, why: str) -> None:
    """One warning per process naming a record (or log) that is skipped, and why."""
    if url not in _WARNED:
        _WARNED.add(url)
        advice = "" if "delete it" in why else ("; it was truncated or damaged "
                                                "(delete it, or repair it from a copy, to silence this)")
        print(f"sfncompile: warning: skipping {url}: {why}{advice}", file=sys.stderr)


def _type_name(value: Any) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def new_run_record(flow: str, run_id: str, *, user: str | None = None, origin_run_id: str | None = None,
                   rerun_steps: list[str] | None = None, parameters: dict | None = None,
                   tags: list[str] | None = None, production_token: str | None = None,
                   started_by: str = "sfncompile", end_step: str | None = None,
                   project: dict | None = None, configs: dict | None = None) -> dict:
    """``project``: the run's ``@project`` names (``current.project_fields``), whose
    ``project:…`` / ``project_branch:…`` system tags the run carries, as Metaflow's do.
    ``configs``: the values of the flow's ``Config``s (name → value) the run was compiled
    with, which a resume of the run keeps (Metaflow's resume does)."""
    from .current import project_system_tags

    user = user or default_user()
    system_tags = [f"user:{user}", "runtime:sfncompile"]
    if production_token:
        system_tags.append(f"production:{production_token}")
    system_tags += project_system_tags(project or {})
    return {
        "version": 1, "flow": flow, "run_id": run_id, "created_at": time.time(), "user": user,
        "origin_run_id": origin_run_id,
        "rerun_steps": sorted(rerun_steps) if rerun_steps is not None else None,
        "parameters": parameters or {}, "system_tags": system_tags, "tags": sorted(tags or []),
        "production_token": production_token, "started_by": started_by, "end_step": end_step,
        **({"configs": configs} if configs else {}),
    }


def write_run_record(root: str, flow: str, run_id: str, **fields) -> dict:
    """Write ``runs/<run_id>/run.json`` before an execution starts (run, trigger, resume).

    For a resume pass ``origin_run_id`` and ``rerun_steps`` (the steps whose
    tasks must run again; every other task clones the origin's committed
    attempt). Returns the record.
    """
    record = new_run_record(flow, run_id, **fields)
    Datastore(root, flow).write_run(run_id, record)
    return record


def resume_plan(root: str, graph: dict, origin_run_id: str, step: str | None = None) -> list[str]:
    """The steps whose tasks a resume of ``origin_run_id`` re-runs whatever the origin did:
    ``step`` and every step reachable from it (Metaflow's ``resume STEP``). Without a step,
    none: every task that succeeded in the origin and whose inputs were cloned is cloned
    (Metaflow's rule, applied by each task), so the run re-starts where it stopped."""
    steps = graph["steps"]
    if step is None:
        return []
    if step not in steps:
        raise ValueError(f"no step named '{step}' (steps: {', '.join(steps)})")
    seen: set[str] = set()
    stack = [step]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(steps[name].get("out_funcs", []))
    return sorted(seen)


def where_run_stopped(root: str, graph: dict, run_id: str) -> str | None:
    """The step a run stopped at (None when every step has a successful task)."""
    return _where_run_stopped(Datastore(root, graph["name"]), graph, run_id)


def _where_run_stopped(store: "Datastore", graph: dict, run_id: str) -> str | None:
    """The first step (breadth-first from start) with no successful task whose parents
    all have one. Breadth-first alone is not enough: a join can come before the end of
    a longer branch, and a join behind an unfinished branch is not where the run stopped."""
    finished: dict[str, bool] = {}

    def has_succeeded(name: str) -> bool:
        if name not in finished:
            finished[name] = any(store.latest_record(run_id, name, t) is not None
                                 for t in store.tasks(run_id, name))
        return finished[name]

    unfinished = [name for name in _breadth_first(graph) if not has_succeeded(name)]
    for name in unfinished:
        if all(has_succeeded(parent) for parent in graph["steps"][name].get("in_funcs", [])):
            return name
    return unfinished[0] if unfinished else None


def _breadth_first(graph: dict) -> list[str]:
    steps = graph["steps"]
    start = graph.get("start") or next(iter(steps))
    order, seen, queue = [], set(), [start]
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        order.append(name)
        queue.extend(steps[name].get("out_funcs", []))
    return order


def default_user() -> str:
    for var in ("SFNCOMPILE_USER", "METAFLOW_USER", "USER", "USERNAME"):
        value = os.environ.get(var)
        if value:
            return value
    return "unknown"
