"""Fails in `middle` while SFNCOMPILE_TEST_FAIL_MIDDLE=1 is in the job's environment."""

import os

from sfncompile import FlowSpec, Parameter, step


class FlakyFlow(FlowSpec):
    size = Parameter("size", default=3, help="how many numbers")

    @step
    def start(self):
        self.numbers = list(range(self.size))
        self.next(self.middle)

    @step
    def middle(self):
        if os.environ.get("SFNCOMPILE_TEST_FAIL_MIDDLE") == "1":
            raise RuntimeError("middle failed on purpose")
        self.total = sum(self.numbers)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)
