from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):

    @step
    def start(self):
        self.next(self.train)

    @retry(times="three")  # expect: SFN140
    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self):
        pass
