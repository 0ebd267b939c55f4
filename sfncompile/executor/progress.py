"""What a local run shows while it runs.

On a terminal: a live block, one line per step (done / running / failed
tasks; foreach steps show how many of their tasks finished), redrawn a few
times a second. Otherwise (a pipe, CI logs): one plain line per finished or
failed task. Both are fed by the local Batch runner's job events.

Every line a task prints shows up as it comes, prefixed with the task's
pathspec and process id (``[Flow/run/step/task (pid N)] text``, Metaflow's
shape): above the live block, which the next redraw puts back, or between
the plain lines. ``show_output=False`` (``--quiet``) hides task output and
the per-task lines.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TextIO

from sfncompile_runtime import envnames


def job_label(parameters: dict) -> str:
    """What a Batch job runs: its step, or ``exit_hook.success``/``.error`` for an
    ``@exit_hook`` job (its ``step`` parameter is the hook kind, not a step)."""
    step = parameters.get("step", "?")
    return f"exit_hook.{step}" if parameters.get("mode") == "exit-hook" else step


def task_line(pathspec: str, text: str, pid: int | None = None) -> str:
    """A line a task printed, as the console shows it: Metaflow's ``[<task> (pid N)] text``, with our
    full pathspec (what ``sfncompile logs`` takes) in place of Metaflow's run/step/task."""
    where = f"{pathspec} (pid {pid})" if pid else pathspec
    return f"[{where}] {text}\n"


@dataclass
class StepCounts:
    running: int = 0
    done: int = 0
    failed: int = 0
    tasks: set = field(default_factory=set)


def job_task_id(step_numbers: dict[str, int], step: str, index_path: str, visit: int = 0) -> str:
    """The task id a job's task has (``datastore.task_id_for``; an exit hook's job, which is
    no task, shows its index path)."""
    number = step_numbers.get(step)
    if number is None:
        return index_path or "0"
    base = f"{number}.{index_path}" if index_path else str(number)
    return base if visit == 0 else f"{base}-{visit}"


class Progress:
    def __init__(self, flow: str, run_id: str, steps: list[str], foreach_steps: set[str] = frozenset(),
                 stream: TextIO | None = None, live: bool | None = None, interval: float = 0.25,
                 show_output: bool = True, *, step_numbers: dict[str, int]):
        self.flow = flow
        self.run_id = run_id
        self.step_numbers = dict(step_numbers)  # datastore.step_numbers of the run's graph
        self.order = list(steps)
        self.foreach_steps = set(foreach_steps)
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.interval = interval
        self.show_output = show_output  # False (--quiet): no task output, no per-task lines
        self.counts: dict[str, StepCounts] = {s: StepCounts() for s in steps}
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._drawn_lines = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # A step in a switch loop runs each visit as a task of its own (``<id>-<k>``). The task
        # numbers its visits from the datastore; the jobs show the same numbers: a job that is
        # no retry (retry count 0) and no @catch fallback starts the next visit.
        self._visits: dict[tuple[str, str], int] = {}
        self._job_tasks: dict[str, str] = {}

    # ---- events from the Batch runner

    def _task_id(self, kind: str, step: str, index: str, info: dict) -> str:
        job = info.get("job_id")
        if kind == "started":
            seen = self._visits.get((step, index), 0)
            first_try = info["environment"].get(envnames.RETRY_COUNT, "0") in ("", "0")
            if first_try and info["parameters"].get("mode", "step") == "step":
                self._visits[(step, index)] = seen + 1
                visit = seen
            else:
                visit = max(seen - 1, 0)
            task = job_task_id(self.step_numbers, step, index, visit)
            if job is not None:
                self._job_tasks[job] = task
            return task
        if job is not None and job in self._job_tasks:
            return self._job_tasks[job]
        return job_task_id(self.step_numbers, step, index)

    def on_job_event(self, kind: str, info: dict):
        step = job_label(info["parameters"])
        index = info["environment"].get(envnames.INDEX_PATH, "")
        with self._lock:
            task = self._task_id(kind, step, index, info)
        if kind == "log":  # a line a task printed (a local process, or a remote Batch job's log)
            if self.show_output:
                self._write_above(task_line(f"{self.flow}/{self.run_id}/{step}/{task}", info["line"],
                                            info.get("pid")))
            return
        with self._lock:
            counts = self.counts.setdefault(step, StepCounts())
            if kind == "started":
                counts.running += 1
                counts.tasks.add(index)
                return
            counts.running -= 1
            if kind == "succeeded":
                counts.done += 1
            else:
                counts.failed += 1
        if not self.live and self.show_output:
            record = info.get("record")
            seconds = (record.stopped_at - record.started_at) if record else 0.0
            status = "ok    " if kind == "succeeded" else "FAILED"
            where = f"{self.flow}/{self.run_id}/{step}/{task}"
            self._write(f"[{self.elapsed():7.1f}s] {status} {where} ({seconds:.1f}s)\n")

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    # ---- the live view

    def start(self):
        self._write(f"{self.flow} run {self.run_id}\n")
        if self.live:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join()
            self._draw()

    def _loop(self):
        while not self._stop.wait(self.interval):
            self._draw()

    def lines(self) -> list[str]:
        with self._lock:
            out = []
            width = max((len(s) for s in self.counts), default=4)
            for step, c in self.counts.items():
                if step in self.foreach_steps or len(c.tasks) > 1:
                    tasks = f"{c.done}/{len(c.tasks)} tasks"
                else:
                    tasks = ""
                state = ("failed" if c.failed else "running" if c.running else
                         "done" if c.done else "waiting")
                extra = []
                if c.running:
                    extra.append(f"{c.running} running")
                if c.failed:
                    extra.append(f"{c.failed} failed")
                out.append(f"  {step:<{width}}  {state:<7}  {tasks} {', '.join(extra)}".rstrip())
            out.append(f"  {self.elapsed():.1f}s")
            return out

    def _draw(self):
        lines = self.lines()
        with self._lock:
            up = f"\x1b[{self._drawn_lines}F" if self._drawn_lines else ""
            self.stream.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
            self.stream.flush()
            self._drawn_lines = len(lines)

    def _write_above(self, text: str):
        """Print a log line; in the live view it goes above the block, which the next draw puts back."""
        with self._lock:
            if self.live and self._drawn_lines:
                self.stream.write(f"\x1b[{self._drawn_lines}F\x1b[J")
                self._drawn_lines = 0
            self.stream.write(text)
            self.stream.flush()

    def _write(self, text: str):
        with self._lock:
            self.stream.write(text)
            self.stream.flush()
