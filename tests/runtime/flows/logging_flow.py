import os
import subprocess
import sys
import time

from sfncompile import FlowSpec, step


class LoggingFlow(FlowSpec):
    @step
    def start(self):
        print("first line, before waiting")
        print("to stderr", file=sys.stderr)
        subprocess.run([sys.executable, "-c", "print('from a child process')"], check=True)
        while not os.path.exists(os.environ["GATE"]):
            time.sleep(0.02)
        print("after the gate")
        self.next(self.end)

    @step
    def end(self):
        pass
