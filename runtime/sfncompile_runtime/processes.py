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
        try:
            with open(f"/proc/{entry}/stat", "rb") as src:
                stat = src.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()  # after "pid (comm) ": state ppid pgrp ...
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
