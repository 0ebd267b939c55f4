from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=4)  # expect: SFN160

    @parallel  # expect: SFN160
    @step
    def train(self):  # expect: SFN126
        self.next(self.after)

    @step
    def after(self):  # expect: SFN129
        self.next(self.end)

    @step
    def end(self):
        pass
