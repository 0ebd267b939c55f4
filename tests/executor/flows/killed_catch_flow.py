"""A step that kills its own process on every attempt, under @catch and @retry (Metaflow's
TagCatchTest): the retries run, then @catch's fallback attempt stores FailureHandledByCatch."""

from metaflow import FlowSpec, catch, current, retry, step


class KilledCatchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.doomed)

    @catch(var="ex", print_exception=False)
    @retry(times=1)
    @step
    def doomed(self):
        import os
        import signal

        self.attempt_seen = current.retry_count
        os.kill(os.getpid(), signal.SIGKILL)
        self.next(self.end)

    @step
    def end(self):
        self.ex_type = self.ex.type
        self.ex_text = self.ex.exception


if __name__ == "__main__":
    KilledCatchFlow()
