from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step(start=True)
    def begin(self):  # expect: SFN105
        self.next(self.end)

    @step
    def start(self):  # expect: SFN116
        self.next(self.end)

    @step
    def end(self):
        pass
