"""`work` starts a child that outlives it unless ended (mode=fork), leaves an orphan behind
(mode=orphan), starts one in a session of its own (mode=setsid), or ignores SIGTERM and sleeps (mode=stubborn): what no run may leave behind."""

import signal
import subprocess
import sys
import time

from sfncompile import FlowSpec, Parameter, step


class StubbornFlow(FlowSpec):
    mode = Parameter("mode", default="fork")

    @step
    def start(self):
        self.next(self.work)

    @step
    def work(self):
        if self.mode == "fork":
            self.child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]).pid
        elif self.mode == "setsid":  # a daemon: its own session, so not in the task's process group
            self.child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                          start_new_session=True, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL).pid
        elif self.mode == "orphan":  # a shell's `sleep &`: the shell ends, its child is nobody's
            self.child = int(subprocess.run(["sh", "-c", "sleep 120 >/dev/null 2>&1 & echo $!"],
                                            capture_output=True, text=True).stdout)
        else:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            subprocess.Popen([sys.executable, "-c", "import signal, time; "
                              "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"])
            # and a daemon in a session of its own: no signal to the task's group reaches it
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print("stubborn", flush=True)
            time.sleep(120)
        self.next(self.end)

    @step
    def end(self):
        pass
