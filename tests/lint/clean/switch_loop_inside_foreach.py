from sfncompile import FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, environment, project, pypi, resources, retry, schedule, step, timeout, trigger, trigger_on_finish


class Flow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.prepare, foreach="items")

    @step
    def prepare(self):
        self.n = self.input
        self.next(self.refine)

    @step
    def refine(self):
        self.n += 1
        self.status = "more" if self.n < 5 else "enough"
        self.next({"more": self.refine, "enough": self.finish}, condition="status")

    @step
    def finish(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.n for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
