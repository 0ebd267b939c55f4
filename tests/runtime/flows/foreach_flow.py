from sfncompile import FlowSpec, Parameter, step


class ForeachFlow(FlowSpec):
    """foreach over letters; the body doubles each; the join collects in order."""

    n = Parameter("n", default=3)

    @step
    def start(self):
        self.letters = [chr(ord("a") + i) for i in range(self.n)]
        self.next(self.body, foreach="letters")

    @step
    def body(self):
        self.doubled = self.input * 2
        self.where = (self.index, self.foreach_stack()[0][:2])
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = [inp.doubled for inp in inputs]
        self.indices = [inp.index for inp in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
