from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.size = "small"
        self.next({"small": self.small, "large": self.lrage}, condition="size")  # expect: SFN114

    @step
    def small(self):
        self.next(self.end)

    @step
    def end(self):
        pass
