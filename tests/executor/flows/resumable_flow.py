"""Fails in `fit` until the marker file exists; `prepare` and the foreach before it succeed."""

import os

from sfncompile import FlowSpec, Parameter, step


class ResumableFlow(FlowSpec):
    marker = Parameter("marker", help="fit fails while this file does not exist", default="")

    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.square, foreach="items")

    @step
    def square(self):
        self.value = self.input * self.input
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.fit)

    @step
    def fit(self):
        if not os.path.exists(self.marker):
            raise RuntimeError(f"marker {self.marker} is missing")
        self.result = self.total * 10
        self.next(self.end)

    @step
    def end(self):
        self.final = self.result + 1


if __name__ == "__main__":
    ResumableFlow()
