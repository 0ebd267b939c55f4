"""Records what a task's process sees, for the warm-start equivalence test."""
import json
import os
import random
import signal
import sys

from metaflow import FlowSpec, environment, step


def _parent_of(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def view():
    package = os.environ.get("SFNCOMPILE_PACKAGE_DIR", "")
    user_modules = sorted(name for name, module in list(sys.modules.items())
                          if getattr(module, "__file__", None) and package
                          and module.__file__.startswith(package) and not name.startswith("sfncompile_runtime"))
    handlers = {}
    for sig in signal.valid_signals():
        try:
            handler = signal.getsignal(sig)
        except (ValueError, OSError):
            continue
        handlers[int(sig)] = handler if isinstance(handler, int) else getattr(handler, "__name__", repr(handler))
    return {
        "env": {k: v for k, v in os.environ.items() if k != "SFNCOMPILE_RUN_ID"},
        "path": sys.path, "cwd": os.getcwd(), "argv": sys.argv, "orig_argv": sys.orig_argv,
        "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
        "handlers": handlers, "blocked": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
        "user_modules": user_modules, "pid": os.getpid(), "ppid": os.getppid(),
        # the step runs in a child of the task's own (supervising) process: the task's parent is one up
        "task_ppid": _parent_of(os.getppid()), "random": random.random(),
        "main_module": sys.modules["__main__"].__name__,
    }


class ProcessViewFlow(FlowSpec):
    @environment(vars={"VIEW_VAR": "from-decorator"})
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.start_view = json.dumps(view())
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.view = json.dumps(view())
        self.next(self.join)

    @step
    def join(self, inputs):
        self.views = [i.view for i in inputs]
        self.start_view = inputs[0].start_view
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ProcessViewFlow()
