"""A two-step flow whose answer depends on an artifact read back from the datastore."""

from sfncompile import FlowSpec, Parameter, step


class TotalFlow(FlowSpec):
    label = Parameter("label", default="x")

    @step
    def start(self):
        self.total = sum(range(10))
        self.next(self.end)

    @step
    def end(self):
        self.doubled = self.total * 2
        print("doubled", self.doubled, self.label)
