from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.fan)

    @step
    def fan(self):
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.route = "done"
        self.next({"again": self.fan, "done": self.finish}, condition="route")  # expect: SFN161

    @step
    def finish(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
