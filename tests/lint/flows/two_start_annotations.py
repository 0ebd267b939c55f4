from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step(start=True)
    def first(self):
        self.next(self.second)

    @step(start=True)
    def second(self):  # expect: SFN103
        self.next(self.end)

    @step
    def end(self):
        pass
