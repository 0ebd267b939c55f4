from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.train)

    @step
    def train(self):  # expect: SFN112
        self.model = 1

    @step
    def end(self):
        pass
