from sfncompile import FlowSpec, step


class NestedFlow(FlowSpec):
    """A foreach inside a foreach: task ids are "i.j"."""

    @step
    def start(self):
        self.rows = ["r0", "r1"]
        self.next(self.row, foreach="rows")

    @step
    def row(self):
        self.row_name = self.input
        self.cols = [10, 20, 30]
        self.next(self.cell, foreach="cols")

    @step
    def cell(self):
        self.value = f"{self.row_name}:{self.input}"
        self.stack = [(i, n, v) for i, n, v in self.foreach_stack()]
        self.next(self.row_join)

    @step
    def row_join(self, inputs):
        self.row_values = [inp.value for inp in inputs]
        self.next(self.join)

    @step
    def join(self, inputs):
        self.grid = [inp.row_values for inp in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
