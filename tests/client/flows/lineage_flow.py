from metaflow import FlowSpec, Task, current, retry, step


class LineageFlow(FlowSpec):
    """A static split, a nested foreach and a retried task: every task records its
    own pathspec and its parents' (as Metaflow's runtime_dag test does)."""

    @step
    def start(self):
        print("start says hi")
        self.me = current.pathspec
        self.parents = set()
        self.lineage = (self._current_step,)
        self.task_obj = Task(current.pathspec)
        self.next(self.a, self.b)

    @step
    def a(self):
        self.parents, self.me = {self.me}, current.pathspec
        self.rows = ["r0", "r1"]
        self.next(self.row, foreach="rows")

    @step
    def row(self):
        self.parents, self.me = {self.me}, current.pathspec
        self.stack_vars = [frame.var for frame in self._foreach_stack]
        self.cols = [1, 2]
        self.next(self.cell, foreach="cols")

    @retry(times=1)
    @step
    def cell(self):
        if current.retry_count == 0 and self.index == 1:
            raise ValueError("first attempt fails")
        self.parents, self.me = {self.me}, current.pathspec
        self.value = f"{self.input}"
        self.next(self.row_join)

    @step
    def row_join(self, inputs):
        self.parents, self.me = {inp.me for inp in inputs}, current.pathspec
        self.values = [inp.value for inp in inputs]
        self.next(self.a_join)

    @step
    def a_join(self, inputs):
        self.parents, self.me = {inp.me for inp in inputs}, current.pathspec
        self.grid = [inp.values for inp in inputs]
        self.next(self.join)

    @step
    def b(self):
        self.parents, self.me = {self.me}, current.pathspec
        self.next(self.join)

    @step
    def join(self, inputs):
        self.parents, self.me = {inp.me for inp in inputs}, current.pathspec
        self.grid = inputs.a_join.grid
        self.next(self.end)

    @step
    def end(self):
        self.parents, self.me = {self.me}, current.pathspec
        print("the end")
