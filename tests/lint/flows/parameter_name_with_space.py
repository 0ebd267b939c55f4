from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    rate = Parameter("learning rate", default=0.1)  # expect: SFN158

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
