"""stdout/stderr of a task, teed into the datastore while the task runs.

File descriptors 1 and 2 are redirected into pipes (so output of child
processes and C extensions is captured too); one thread per stream copies
every chunk to the original descriptor (still echoed: the executor and
CloudWatch see it) and appends it to ``<attempt>/stdout.log`` /
``stderr.log``. Locally those files *are* the datastore's; on S3 a thread
uploads each changed log every few seconds and once more at the end.
"""

from __future__ import annotations

import os
import sys
import threading

UPLOAD_EVERY = float(os.environ.get("SFNCOMPILE_LOG_UPLOAD_SECONDS", "3"))
STREAMS = (("stdout", 1), ("stderr", 2))


class LogCapture:
    def __init__(self, storage, attempt_prefix: str):
        self.storage = storage
        self.prefix = attempt_prefix
        self._streams = []
        self._stop = threading.Event()
        self._uploader = None

    def _local_path(self, name: str) -> str:
        if self.storage.is_local:
            path = self.storage.path(f"{self.prefix}/{name}.log")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            return path
        import tempfile

        fd, path = tempfile.mkstemp(prefix=f"sfncompile-{name}-", suffix=".log")
        os.close(fd)
        return path

    def start(self) -> None:
        for name, fd in STREAMS:
            stream = getattr(sys, name)
            try:
                stream.flush()
            except Exception:
                pass
            path = self._local_path(name)
            log = open(path, "ab", buffering=0)
            try:
                saved = os.dup(fd)
            except OSError:
                log.close()
                continue
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            os.close(write_end)
            thread = threading.Thread(target=_pump, args=(read_end, saved, log), daemon=True,
                                      name=f"sfncompile-{name}")
            thread.start()
            self._streams.append((name, fd, saved, read_end, log, path, thread))
            try:
                stream.reconfigure(line_buffering=True)  # a print is visible in the log at once
            except Exception:
                pass
        if not self.storage.is_local:
            self._uploader = threading.Thread(target=self._upload_loop, daemon=True, name="sfncompile-logs")
            self._uploader.start()

    def write_stderr(self, text: str) -> None:
        """A line of ours into the task's stderr (the log and the echo), from this process."""
        for name, fd, saved, read_end, log, path, thread in self._streams:
            if name == "stderr":
                os.write(fd, text.encode())
                return
        os.write(2, text.encode())

    def _upload_loop(self) -> None:
        sizes: dict[str, int] = {}
        while not self._stop.wait(UPLOAD_EVERY):
            self._upload(sizes)

    def _upload(self, sizes: dict | None = None) -> None:
        for name, _, _, _, _, path, _ in self._streams:
            try:
                size = os.path.getsize(path)
                if sizes is not None and sizes.get(name) == size:
                    continue
                self.storage.put_file(f"{self.prefix}/{name}.log", path)
                if sizes is not None:
                    sizes[name] = size
            except Exception as exc:  # logs are best effort; the step's result is not
                os.write(self._saved_err(), f"sfncompile: could not upload {name}.log: {exc}\n".encode())

    def _saved_err(self) -> int:
        for name, _, saved, *_ in self._streams:
            if name == "stderr":
                return saved
        return 2

    def stop(self) -> None:
        for name, _ in STREAMS:
            try:
                getattr(sys, name).flush()
            except Exception:
                pass
        for name, fd, saved, read_end, log, path, thread in self._streams:
            os.dup2(saved, fd)  # closes our pipe's last write end: the pump sees EOF
        for name, fd, saved, read_end, log, path, thread in self._streams:
            thread.join(timeout=5)  # a child process that kept the pipe open must not hang us
            if not thread.is_alive():
                log.close()  # else the pump still owns it (and closes nothing it writes to)
            os.close(saved)
        self._stop.set()
        if self._uploader is not None:
            self._uploader.join(timeout=1)
            self._upload()
            for *_, path, _ in self._streams:
                try:
                    os.unlink(path)
                except OSError:
                    pass


ECHO_PENDING_MAX = 65536


def _pump(read_end: int, echo_fd: int, log) -> None:
    """Copy a stream to its log and echo it in whole lines.

    stdout and stderr share one descriptor on the way to the executor, and an unbuffered
    ``print("item", 1)`` is several writes: echoing chunks as they come would splice the other
    stream's lines into the middle of this one's. A whole line is one ``write`` (atomic on a
    pipe up to PIPE_BUF), so lines stay whole; a partial line waits for its newline (or the
    end of the stream, or 64 KiB).
    """
    pending = b""
    try:
        while True:
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            log.write(chunk)
            pending += chunk
            cut = pending.rfind(b"\n") + 1
            if not cut and len(pending) < ECHO_PENDING_MAX:
                continue
            cut = cut or len(pending)
            _echo(echo_fd, pending[:cut])
            pending = pending[cut:]
        if pending:
            _echo(echo_fd, pending)
    finally:
        os.close(read_end)


def _echo(fd: int, data: bytes) -> None:
    try:
        os.write(fd, data)
    except OSError:
        pass
