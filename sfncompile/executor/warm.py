"""Warm start (the default): tasks forked from a process that has already run the bootstrap.

With ``--no-warm-start`` (or ``SFNCOMPILE_WARM_START=0``) every task is a new
process running the job definition's command (``python3 -c BOOTSTRAP <mode>
<step>``): a Python start and the runtime's imports per task. By default the
local executor starts, per job definition, one *zygote*: a process that runs
that same bootstrap with the same static environment — the code package is
fetched, its sha256 verified and extracted exactly as a task would — but stops
before running a step, imports the runtime (and the standard-library modules a task
imports before its flow), and then forks one child per task.
The child gets the task's full environment, its own session (so it can be
killed as a group) and its output on a pipe the executor reads, then calls
``sfncompile_runtime.main.main([mode, step])`` as the bootstrap would. The
flow's own module is imported in the child, never in the zygote.

The zygote's environment is the task's minus the per-task variables (see
``batch.warm_environment``), so what a module reads at import is what a fresh
process would read. Linux only (``os.pidfd_open``, ``socket.send_fds``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading

# The zygote. argv: [bootstrap source, socket path]. One request per connection:
# a JSON line {"argv": [...], "env": {...}} plus one fd (the task's stdout/stderr);
# answers {"pid": n} at once and {"exit": code} when the child ends.
ZYGOTE_SOURCE = r'''
import io, json, os, selectors, signal, socket, sys
boot, path, parent_watch = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.argv = ["-c", "__warm_start__"]
before = dict(os.environ)
saved = sys.stderr
sys.stderr = io.StringIO()  # main() prints its usage for the dummy argv
try:
    exec(compile(boot, "<bootstrap>", "exec"), {"__name__": "__main__"})
except SystemExit as done:
    if done.code != 2:
        saved.write(sys.stderr.getvalue()); saved.flush()
        raise
finally:
    sys.stderr = saved
# What the bootstrap itself set (SFNCOMPILE_PACKAGE_DIR, ...): a fresh task has it too.
bootstrap_env = {k: v for k, v in os.environ.items() if before.get(k) != v}
import sfncompile_runtime.main as runtime_main
for name in ("api", "context", "datastore", "storage", "sidechannel", "flowspec", "decorators", "current",
             "logcapture", "parameters", "graphinfo", "exceptions", "environments", "aws", "processes"):
    try:
        __import__("sfncompile_runtime." + name)
    except ImportError:
        pass
# The standard-library modules a task imports before its flow (none reads the environment at
# import): once here rather than once per task.
import sfncompile_runtime.context
sfncompile_runtime.context.import_runtime_needs()
import ctypes  # every task's processes.adopt_orphans
# Everything loaded so far outlives every task: out of the collector's sight, so that a
# collection in a forked task does not write to (and so copy) each page of this heap.
import gc
gc.collect()
gc.freeze()
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(64)
print("ready", flush=True)
sel = selectors.DefaultSelector()
sel.register(server, selectors.EVENT_READ, "accept")
# The executor holds the write end and never writes: EOF means it is gone (even by SIGKILL), and
# then so are we and every task we forked.
sel.register(parent_watch, selectors.EVENT_READ, "parent")
while True:
    for key, _ in sel.select():
        if key.data == "parent":
            # Every descendant too, listed before anything dies (a dead parent's children
            # re-parent out of reach): a task's setsid() daemon is in no task's group.
            from sfncompile_runtime.processes import descendants
            for pid in descendants(os.getpid()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            for other in list(sel.get_map().values()):
                if isinstance(other.data, tuple):
                    try:
                        os.killpg(other.data[0], signal.SIGKILL)
                    except OSError:
                        pass
            os._exit(0)
        if key.data == "accept":
            conn, _ = server.accept()
            msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 1)
            while not msg.endswith(b"\n"):
                more = conn.recv(1 << 20)
                if not more:
                    break
                msg += more
            if not msg:
                for fd in fds:
                    os.close(fd)
                if not fds:
                    sys.exit(0)  # an empty request: shut down
                conn.close()
                continue
            request = json.loads(msg)
            pid = os.fork()
            if pid == 0:
                # The task's process: drop everything of the zygote's (its sockets, the
                # selector, the other tasks' pidfds) through their objects, so nothing
                # closes a task's file later by a stale number; then be the fresh process.
                code = 1
                try:
                    os.setsid()
                    for other in list(sel.get_map().values()):
                        if isinstance(other.data, tuple):  # another task's pidfd and connection
                            other.data[1].close()
                            os.close(other.fd)
                        elif other.data == "parent":
                            os.close(other.fd)
                    sel.close()
                    server.close()
                    conn.close()
                    os.dup2(fds[0], 1)
                    os.dup2(fds[0], 2)
                    os.close(fds[0])
                    os.closerange(3, 1 << 16)
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    signal.signal(signal.SIGINT, signal.default_int_handler)
                    os.environ.clear()
                    os.environ.update(request["env"])
                    os.environ.update(bootstrap_env)
                    os.chdir(request["cwd"])
                    sys.argv = ["-c"] + request["argv"]
                    sys.orig_argv = request["orig_argv"]
                    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
                    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)
                    code = runtime_main.main(request["argv"])
                    # As the bootstrap ends: at once when this process ran none of the flow's code.
                    runtime_main.exit_process(code)
                except SystemExit as exit_:
                    code = exit_.code
                except BaseException:
                    import traceback
                    traceback.print_exc()
                    code = 1
                # Leave as `sys.exit(main(...))` leaves a fresh process: atexit handlers,
                # non-daemon threads joined, streams flushed.
                raise SystemExit(code)
            os.close(fds[0])
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            sel.register(os.pidfd_open(pid), selectors.EVENT_READ, (pid, conn))
        else:
            pid, conn = key.data
            sel.unregister(key.fileobj)
            os.close(key.fileobj if isinstance(key.fileobj, int) else key.fd)
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            try:
                conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
            except OSError:
                pass
            conn.close()
'''


def supported() -> bool:
    return hasattr(os, "pidfd_open") and hasattr(socket, "send_fds") and sys.platform.startswith("linux")


class Zygote:
    """One warm process for one job definition (command + static environment)."""

    def __init__(self, command: list[str], environment: dict[str, str]):
        if len(command) < 3 or command[1] != "-c":
            raise ValueError("warm start needs a `python -c SOURCE ...` command")
        self.command = list(command[:3])
        self.directory = tempfile.mkdtemp(prefix="sfncompile-warm-")
        self.path = os.path.join(self.directory, "zygote.sock")
        watch_read, self._watch_write = os.pipe()  # the zygote exits when this process does
        try:
            self.process = subprocess.Popen(
                [command[0], "-c", ZYGOTE_SOURCE, command[2], self.path, str(watch_read)], env=environment,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                start_new_session=True, pass_fds=(watch_read,))
        finally:
            os.close(watch_read)
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            err = self.process.stderr.read()
            self.process.kill()
            raise RuntimeError(f"the warm-start process did not start: {err.strip()[-2000:]}")

    def spawn(self, argv: list[str], env: dict[str, str], output_fd: int) -> "WarmChild":
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(self.path)
        request = {"argv": argv, "env": env, "cwd": os.getcwd(), "orig_argv": self.command + argv}
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [output_fd])
        reader = conn.makefile("rb")
        pid = json.loads(reader.readline())["pid"]
        return WarmChild(pid, conn, reader)

    def close(self):
        try:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(self.path)
            conn.sendall(b"")
            conn.close()
        except OSError:
            pass
        try:
            self.process.terminate()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
        try:
            os.close(self._watch_write)
        except OSError:
            pass
        try:
            os.unlink(self.path)
            os.rmdir(self.directory)
        except OSError:
            pass


class WarmChild:
    """A forked task: ``pid`` leads its own process group; ``wait()`` gives the exit code."""

    def __init__(self, pid: int, conn: socket.socket, reader):
        self.pid = pid
        self._conn = conn
        self._reader = reader
        self.returncode: int | None = None

    def wait(self, timeout=None) -> int:
        if self.returncode is None:
            line = self._reader.readline()
            self.returncode = json.loads(line)["exit"] if line else -9
            self._conn.close()
        return self.returncode


class _Slot:
    """One zygote: being started (by one thread, the others wait for it) or started."""

    def __init__(self):
        self.done = threading.Event()
        self.zygote: Zygote | None = None
        self.error: BaseException | None = None

    def start(self, command: list[str], environment: dict[str, str]) -> None:
        try:
            self.zygote = Zygote(command, environment)
        except BaseException as exc:  # raised to whoever asks for this zygote
            self.error = exc
        finally:
            self.done.set()

    def usable(self) -> bool:
        """False once it failed to start or died (killed from outside?): a new one is started."""
        return not self.done.is_set() or (self.zygote is not None and self.zygote.process.poll() is None)


class ZygotePool:
    """Zygotes by command and environment, started on first use (or ahead of it by
    ``prestart``); thread-safe. Past ``limit`` distinct environments ``get`` returns None
    (the task starts fresh)."""

    limit = 16

    def __init__(self):
        self._slots: dict[tuple, _Slot] = {}
        self._lock = threading.Lock()

    def _claim(self, command: list[str], environment: dict[str, str]) -> tuple[_Slot | None, bool]:
        """(the slot for this zygote or None past the limit, whether the caller must start it)."""
        key = (tuple(command[:3]), tuple(sorted(environment.items())))
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None and not slot.usable():
                if slot.zygote is not None:
                    slot.zygote.close()
                del self._slots[key]
                slot = None
            if slot is not None:
                return slot, False
            if len(self._slots) >= self.limit:
                return None, False
            slot = self._slots[key] = _Slot()
            return slot, True

    def prestart(self, command: list[str], environment: dict[str, str]) -> None:
        """Start this zygote now, on a thread of its own: its start (a Python start, the code
        package's check, the runtime's imports) overlaps whatever the caller does next, and the
        first ``get`` for it waits only for what is left of it."""
        slot, mine = self._claim(command, environment)
        if mine:
            threading.Thread(target=slot.start, args=(command, environment), name="sfncompile-zygote-start",
                             daemon=True).start()

    def get(self, command: list[str], environment: dict[str, str]) -> Zygote | None:
        slot, mine = self._claim(command, environment)
        if slot is None:
            return None
        if mine:
            slot.start(command, environment)
        slot.done.wait()
        if slot.error is not None:
            raise slot.error
        return slot.zygote

    def close(self):
        with self._lock:
            slots = list(self._slots.values())
            self._slots.clear()
        for slot in slots:
            slot.done.wait()  # a zygote still starting is closed once started, never left behind
            if slot.zygote is not None:
                slot.zygote.close()
