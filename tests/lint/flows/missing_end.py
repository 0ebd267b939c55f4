from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):  # expect: SFN104
    @step
    def start(self):
        self.next(self.finish)

    @step
    def finish(self):  # expect: SFN112
        pass
