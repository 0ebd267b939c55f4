from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


ITEMS = "items"


class Flow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        attr = ITEMS
        self.next(self.work, foreach=attr)  # expect: SFN130

    @step
    def work(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
