"""Ending what a task started: no process of a task outlives it.

The executor starts every task as the leader of its own process group (a new
session), as a Batch container's first process is. When the step returns,
children it forked or spawned and left running (a server, a ``sleep &``)
would keep the task's output pipes open and outlive the run; Batch kills
them with the container, so the runtime does the same at the end of the
attempt, before it waits for its log pipes. It only ever touches a group it
leads: run under a shell or a test harness (another group's member) it does
nothing.
"""

from __future__ import annotations

import os
import signal
import sys
import threading


PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
_adopting = 0  # the pid that became a subreaper (the attribute is not inherited by a fork)


def adopt_orphans() -> None:
    """Make this task's process the subreaper of what it starts (Linux ``PR_SET_CHILD_SUBREAPER``).

    A process the step leaves behind whose parent ends (the step's own process, a shell that ran
    ``sleep &``) then re-parents to this process instead of to init, so every process of the task
    is a descendant of this one and ``leftover_processes`` finds them by walking the children
    lists (a few files) instead of reading the stat of every process on the machine (~1 ms per
    task, more on a busy machine). Only for the leader of the task's process group (the only case
    ``leftover_processes`` looks at); where it is not available the full scan stays."""
    global _adopting
    me = os.getpid()
    if _adopting == me or os.getpgrp() != me or not os.path.exists(f"/proc/{me}/task/{me}/children"):
        return
    try:
        import ctypes

        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            return
    except (OSError, AttributeError):
        return
    _adopting = me


def _leftovers() -> list[tuple[int, int]]:
    """The other processes of this task (Linux /proc; elsewhere none).

    As a subreaper: every live descendant, whatever its process group — a child that called
    ``setsid()`` (a daemon, ``start_new_session=True``) leaves the group but not our subtree,
    and its orphans come back to us. Without one: the members of the group this process leads."""
    me = os.getpid()
    if os.getpgrp() != me:
        return []
    subtree = _adopting == me
    if subtree:
        candidates = descendants(me)
    else:
        try:
            candidates = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
        except OSError:
            return []
    found = []
    for pid in candidates:
        if pid == me:
            continue
        stat = _read(f"/proc/{pid}/stat")
        if stat is None:
            continue
        fields = stat[stat.rfind(b")") + 2:].split(None, 3)  # after "pid (comm) ": state ppid pgrp ...
        if len(fields) > 2 and (subtree or int(fields[2]) == me) and fields[0] != b"Z":
            found.append((pid, int(fields[2])))
    return found


def leftover_processes() -> list[int]:
    """The other processes of this task (see ``_leftovers``)."""
    return [pid for pid, _ in _leftovers()]


def end_escaped_processes_on_sigterm() -> None:
    """In the task's supervising process (the subreaper): on SIGTERM, first SIGKILL the
    descendants that left the task's process group (a ``setsid()`` daemon), then die of the
    SIGTERM as before. The executor stops a task (timeout, Ctrl-C) by signalling its group,
    which such a process is not in, and SIGKILLs the group after a grace period, when this
    process can no longer act: so the escaped ones end now. The step's own process gets the
    group's SIGTERM and its grace as before; ``os.fork``'s child resets the handler."""
    me = os.getpid()
    if _adopting != me:
        return

    def on_sigterm(signum, frame):
        for pid, group in _leftovers():
            if group != me:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(me, signal.SIGTERM)

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread (an embedding harness): the end-of-task sweep remains
        pass


def descendants(pid: int) -> list[int]:
    """The processes below ``pid``: its threads' children, theirs, and so on."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            threads = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue  # ended meanwhile
        for tid in threads:
            children = _read(f"/proc/{parent}/task/{tid}/children")
            for child in (children or b"").split():
                found.append(int(child))
                pending.append(int(child))
    return found


def _read(path: str) -> bytes | None:
    # Bare system calls (open, read, close), not a Python file object, which adds an fstat, an
    # ioctl and lseeks: this runs for every process looked at, in every task.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)


def end_leftover_processes() -> int:
    """SIGKILL the rest of this task's processes; returns how many were ended.

    A few rounds: a process forking while we kill its parent leaves a child we had not seen
    (it re-parents to us, the subreaper, and the next round finds it). The killed stay zombies
    until this process exits (then init reaps them); the listing skips zombies."""
    ended: set[int] = set()
    for _ in range(5):
        found = [pid for pid in leftover_processes() if pid not in ended]
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                ended.add(pid)
            except OSError:
                pass
    return len(ended)


_watched: str | None = None


def watched_environment(env: dict) -> dict:
    """``env`` plus the executor watch this process was given, for a process that replaces it (exec)."""
    from . import envnames

    return {**env, envnames.PARENT_WATCH_FD: _watched} if _watched else env


def close_parent_watch() -> None:
    """In the step's process forked by the supervising task process: the watch is the supervisor's
    (it ends the whole group); the step gets no descriptor a fresh or warm-started step lacks."""
    if _watched:
        try:
            os.close(int(_watched))
        except OSError:
            pass


def watch_parent() -> None:
    """End this task's process group when the executor that started it is gone.

    A local run's executor passes the read end of a pipe (``SFNCOMPILE_PARENT_WATCH_FD``) and keeps
    the only write end; it never writes. EOF comes when the executor exits by any means, SIGKILL
    included, and then nothing of the task may outlive it: SIGKILL the group this process leads
    (itself, the step's process, whatever the step started). A daemon thread waits for it; on
    Batch the variable is unset and nothing happens. The variable leaves the environment (the step
    sees what a warm-started task sees); ``watched_environment`` puts it back for a ``@pypi`` task's
    re-execution (same pid, same group), which must watch again.
    """
    from . import envnames

    global _watched
    value = os.environ.pop(envnames.PARENT_WATCH_FD, None)
    if not value:
        return
    try:
        fd = int(value)
        os.fstat(fd)
    except (ValueError, OSError):
        return
    _watched = value
    if os.getpgrp() != os.getpid():  # not a group leader (a shell or harness runs us): only ourselves
        group = None
    else:
        group = os.getpid()

    def wait_for_eof() -> None:
        while True:
            try:
                if not os.read(fd, 1):
                    break
            except InterruptedError:
                continue
            except OSError:
                break
        if group is not None:
            end_leftover_processes()  # the subtree first: a setsid() daemon is not in the group
            os.killpg(group, signal.SIGKILL)
        else:
            os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=wait_for_eof, name="sfncompile-parent-watch", daemon=True).start()


def exit_without_teardown(code: int):
    """End this process as ``sys.exit(code)`` would, minus the interpreter's teardown of every
    module and object (about as costly as a small step): what a normal exit does that anyone
    can see happens first (non-daemon threads joined, atexit handlers run, the standard streams
    flushed), then ``os._exit``. Only for a process that ran none of the flow's code, whose
    objects may have finalizers that matter."""
    import atexit

    shutdown = getattr(threading, "_shutdown", None)  # what the interpreter's own exit calls first
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    flush_standard_streams()
    os._exit(code)


def flush_standard_streams() -> None:
    """What ``os._exit`` would lose: the standard streams' buffers (a closed or broken stream is
    no reason not to exit)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
