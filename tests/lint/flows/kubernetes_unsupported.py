from metaflow import FlowSpec, kubernetes, step


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @kubernetes(cpu=2)  # expect: SFN160
    @step
    def end(self):
        pass
