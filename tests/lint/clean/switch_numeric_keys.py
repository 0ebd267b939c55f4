from sfncompile import FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, environment, project, pypi, resources, retry, schedule, step, timeout, trigger, trigger_on_finish


class Flow(FlowSpec):
    @step
    def start(self):
        self.level = 2
        self.next({1: self.low, 2: self.high}, condition="level")

    @step
    def low(self):
        self.next(self.end)

    @step
    def high(self):
        self.next(self.end)

    @step
    def end(self):
        pass
