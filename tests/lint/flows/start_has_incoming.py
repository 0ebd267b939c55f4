from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):  # expect: SFN106
        self.count = getattr(self, "count", 0) + 1
        self.next(self.check)

    @step
    def check(self):
        self.route = "again" if self.count < 3 else "done"
        self.next({"again": self.start, "done": self.end}, condition="route")

    @step
    def end(self):
        pass
