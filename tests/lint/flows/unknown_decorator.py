from sfncompile import FlowSpec, step


def helper(func):
    return func


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @magic  # expect: SFN141
    @step
    def end(self):
        pass
