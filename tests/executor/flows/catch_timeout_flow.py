"""A step killed by its @timeout; @catch turns the failure into data and the run goes on."""

import time

from sfncompile import FlowSpec, catch, step, timeout


class CatchTimeoutFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.slow)

    @catch(var="slow_failure")
    @timeout(seconds=2)
    @step
    def slow(self):
        time.sleep(60)
        self.finished = True
        self.next(self.end)

    @step
    def end(self):
        self.caught = self.slow_failure is not None
        self.failure_text = str(self.slow_failure)


if __name__ == "__main__":
    CatchTimeoutFlow()
