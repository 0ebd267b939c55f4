from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        if self.x > 5:
            return  # expect: SFN133
        self.next(self.end)

    @step
    def end(self):
        pass
