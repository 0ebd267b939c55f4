from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.x = 3
        if self.x > 2:
            self.next(self.big)  # expect: SFN132
        else:
            self.next(self.small)

    @step
    def big(self):
        self.next(self.end)

    @step
    def small(self):
        self.next(self.end)

    @step
    def end(self):
        pass
