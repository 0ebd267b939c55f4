from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):  # expect: SFN103
    @step
    def begin(self):
        self.next(self.end)

    @step
    def end(self):
        pass
