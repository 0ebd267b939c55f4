from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.train)

    @step
    def a(self):
        self.next(self.join)

    @parallel  # expect: SFN160
    @step
    def train(self):  # expect: SFN127
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
