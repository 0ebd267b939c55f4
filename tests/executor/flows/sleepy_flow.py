"""`nap` sleeps for a minute unless the marker file exists: something to interrupt."""

import os
import time

from sfncompile import FlowSpec, Parameter, step


class SleepyFlow(FlowSpec):
    marker = Parameter("marker", default="")

    @step
    def start(self):
        self.next(self.nap)

    @step
    def nap(self):
        print("napping", flush=True)
        if not os.path.exists(self.marker):
            time.sleep(60)
        self.rested = True
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SleepyFlow()
