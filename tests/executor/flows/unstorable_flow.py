"""A step that sets what cannot be an artifact: an open file (mode=file) or a lambda (mode=lambda)."""

from sfncompile import FlowSpec, Parameter, step


class UnstorableFlow(FlowSpec):
    mode = Parameter("mode", default="file")

    @step
    def start(self):
        if self.mode == "file":
            self.handle = open(__file__)
        else:
            self.scorer = lambda x: x + 1
        self.next(self.end)

    @step
    def end(self):
        print(self.scorer(1))
