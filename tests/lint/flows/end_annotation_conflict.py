from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.finish)

    @step(end=True)
    def finish(self):  # expect: SFN105
        pass

    @step
    def end(self):  # expect: SFN116
        pass
