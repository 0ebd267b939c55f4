from sfncompile import FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, environment, project, pypi, resources, retry, schedule, step, timeout, trigger, trigger_on_finish


class Flow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        if self.x < 0:
            raise ValueError("negative")
        try:
            self.y = 1 / self.x
        except ZeroDivisionError:
            self.y = 0
        self.next(self.end)

    @step
    def end(self):
        pass
