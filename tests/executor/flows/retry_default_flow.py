"""@retry with Metaflow's defaults (3 times, 2 minutes between retries): the first two attempts
fail. Metaflow's local runtime retries at once, so this flow finishes in seconds."""

from metaflow import FlowSpec, current, retry, step


class RetryDefaultFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky)

    @retry
    @step
    def flaky(self):
        if current.retry_count < 2:
            raise RuntimeError(f"attempt {current.retry_count} fails on purpose")
        self.attempt_seen = current.retry_count
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RetryDefaultFlow()
