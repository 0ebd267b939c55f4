from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    def start(self):  # expect: SFN103
        self.next(self.middle)

    @step
    def middle(self):
        self.next(self.end)

    @step
    def end(self):
        pass
