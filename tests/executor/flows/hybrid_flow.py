"""A flow whose middle step carries @batch: a hybrid run sends only that step to AWS Batch."""

import os
import time

from sfncompile import FlowSpec, Parameter, batch, step


class HybridFlow(FlowSpec):
    factor = Parameter("factor", type=int, default=3)
    fail_remote = Parameter("fail_remote", type=bool, default=False)
    sleep = Parameter("sleep", type=int, default=0)

    @step
    def start(self):
        self.numbers = [1, 2, 3, 4]
        self.where_start = os.environ.get("AWS_BATCH_JOB_ID", "local")
        self.next(self.crunch)

    @batch(cpu=1, memory=2048)
    @step
    def crunch(self):
        print("crunching", len(self.numbers), "numbers")
        time.sleep(self.sleep)
        if self.fail_remote and not os.environ.get("HYBRID_FIXED"):
            raise RuntimeError("remote step failed on purpose")
        self.total = sum(n * self.factor for n in self.numbers)
        self.where_crunch = os.environ.get("AWS_BATCH_JOB_ID", "local")
        self.next(self.end)

    @step
    def end(self):
        self.where_end = os.environ.get("AWS_BATCH_JOB_ID", "local")
        print("total", self.total)


if __name__ == "__main__":
    HybridFlow()
