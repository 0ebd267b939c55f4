from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a)

    @step
    def a():  # expect: SFN111
        self.next(self.end)

    @step
    def end(self):
        pass
