from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.a)  # expect: SFN113

    @step
    def a(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
