from sfncompile import FlowSpec, step


class ConflictFlow(FlowSpec):
    """merge_artifacts with an unresolved conflict, then include/exclude."""

    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.x = 1
        self.y = "a"
        self.next(self.join)

    @step
    def b(self):
        self.x = 2
        self.y = "b"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.merge_artifacts(inputs)  # x and y conflict: fails
        self.next(self.end)

    @step
    def end(self):
        pass
