"""A step that fails on its first attempt and succeeds on the retry."""

from sfncompile import FlowSpec, current, retry, step


class RetryOnceFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=1, minutes_between_retries=0)
    @step
    def flaky(self):
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails on purpose")
        self.attempt_seen = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        self.done = True


if __name__ == "__main__":
    RetryOnceFlow()
