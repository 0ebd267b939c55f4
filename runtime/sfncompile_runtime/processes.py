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
import threading


def leftover_processes() -> list[int]:
    """Other processes in the process group this process leads (Linux /proc; elsewhere none)."""
    me = os.getpid()
    if os.getpgrp() != me:
        return []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    found = []
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        # Every task reads every process's stat: the bare system calls (open, read, close), not a
        # Python file object (which adds fstat, ioctl and lseeks: twice the cost).
        try:
            fd = os.open(f"/proc/{entry}/stat", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            stat = os.read(fd, 4096)
        except OSError:
            continue
        finally:
            os.close(fd)
        fields = stat[stat.rfind(b")") + 2:].split(None, 3)  # after "pid (comm) ": state ppid pgrp ...
        if len(fields) > 2 and int(fields[2]) == me and fields[0] != b"Z":
            found.append(int(entry))
    return found


def end_leftover_processes() -> int:
    """SIGKILL the rest of this task's process group; returns how many were ended."""
    ended = 0
    for pid in leftover_processes():
        try:
            os.kill(pid, signal.SIGKILL)
            ended += 1
        except OSError:
            pass
    return ended


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
            os.killpg(group, signal.SIGKILL)
        else:
            os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=wait_for_eof, name="sfncompile-parent-watch", daemon=True).start()
