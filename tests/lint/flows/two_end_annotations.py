from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.done, self.finished)

    @step(end=True)
    def done(self):
        pass

    @step(end=True)
    def finished(self):  # expect: SFN104
        pass
