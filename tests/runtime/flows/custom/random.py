"""A flow saved under a standard-library module name, with custom start/end names."""

from sfncompile import FlowSpec, step


class Point:
    def __init__(self, x):
        self.x = x


class CustomEndsFlow(FlowSpec):
    @step(start=True)
    def begin(self):
        import sys

        self.module = type(self).__module__
        self.value = 7
        self.point = Point(3)
        self.next(self.finish)

    @step(end=True)
    def finish(self):
        self.total = self.value + self.point.x
