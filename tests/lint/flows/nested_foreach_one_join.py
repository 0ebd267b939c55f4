from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.outer_items = [1, 2]
        self.next(self.outer, foreach="outer_items")

    @step
    def outer(self):
        self.inner_items = [3, 4]
        self.next(self.inner, foreach="inner_items")

    @step
    def inner(self):
        self.next(self.collect)

    @step
    def collect(self, inputs):
        self.next(self.end)

    @step
    def end(self):  # expect: SFN117
        pass
