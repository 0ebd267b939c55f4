"""A foreach over a list whose length is a parameter (0: Metaflow fails with "produced zero splits")."""

from metaflow import FlowSpec, Parameter, step


class EmptyForeachFlow(FlowSpec):
    n = Parameter("n", default=0)

    @step
    def start(self):
        self.items = list(range(self.n))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.x = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.xs = [i.x for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    EmptyForeachFlow()
