from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, forach="items")  # expect: SFN113

    @step
    def work(self):
        self.next(self.end)

    @step
    def end(self):
        pass
