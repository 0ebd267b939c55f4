from metaflow import FlowSpec, step


class BranchFlow(FlowSpec):
    """A static split whose join merges artifacts (written for Metaflow)."""

    @step
    def start(self):
        self.shared = "from start"
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = "left"
        self.common = 42
        self.left_only = 1
        self.next(self.join)

    @step
    def right(self):
        self.side = "right"
        self.common = 42
        self.next(self.join)

    @step
    def join(self, inputs):
        self.sides = [inp.side for inp in inputs]
        self.by_name = (inputs.left.side, inputs.right.side)
        self.side = "joined"  # resolves the conflict before merging
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        self.summary = (self.sides, self.by_name, self.side, self.common, self.left_only, self.shared)
