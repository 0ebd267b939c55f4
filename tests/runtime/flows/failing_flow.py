import os
import time

from sfncompile import FlowSpec, catch, current, retry, step, timeout


class FailingFlow(FlowSpec):
    """Steps that fail in the ways @retry, @catch and @timeout deal with."""

    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=2)
    @step
    def flaky(self):
        self.attempts_seen = current.retry_count
        if current.retry_count < 2:
            raise RuntimeError(f"flaky failure on attempt {current.retry_count}")
        self.next(self.guarded)

    @retry(times=1)
    @catch(var="failure")
    @step
    def guarded(self):
        self.before = "set before the error"
        raise KeyError("always broken")
        self.next(self.slow)

    @timeout(seconds=1)
    @step
    def slow(self):
        if os.environ.get("SLOW_STEP") == "1":
            time.sleep(60)
        self.next(self.died)

    @catch(var="crash")
    @step
    def died(self):
        self.next(self.end)

    @step
    def end(self):
        self.report = (self.failure.type, self.failure.message, self.before, self.crash)
