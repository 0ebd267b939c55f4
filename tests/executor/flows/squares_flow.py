"""A foreach whose join's answer (0 + 1 + 4 = 5) depends on every stored record and blob."""

from sfncompile import FlowSpec, Parameter, step


class SquaresFlow(FlowSpec):
    n = Parameter("n", default=3)

    @step
    def start(self):
        self.items = list(range(int(self.n)))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.sq = self.input * self.input
        print("square", self.sq)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.sq for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)
