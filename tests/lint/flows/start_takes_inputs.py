from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self, inputs):  # expect: SFN119
        self.next(self.end)

    @step
    def end(self):
        pass
