"""Foreach whose body splits: every shape of fan-out in one flow."""

from sfncompile import FlowSpec, step


class ForeachSplitFlow(FlowSpec):
    @step
    def start(self):
        self.groups = ["a", "b"]
        self.next(self.per_group, foreach="groups")

    @step
    def per_group(self):
        self.group = self.input
        self.next(self.left, self.right)

    @step
    def left(self):
        self.l = self.group + "-left"
        self.next(self.merge)

    @step
    def right(self):
        self.r = self.group + "-right"
        self.next(self.merge)

    @step
    def merge(self, inputs):
        self.pair = (inputs.left.l, inputs.right.r)
        self.next(self.collect)

    @step
    def collect(self, inputs):
        self.pairs = sorted(i.pair for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachSplitFlow()
