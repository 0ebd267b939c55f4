from sfncompile import FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, environment, project, pypi, resources, retry, schedule, step, timeout, trigger, trigger_on_finish


class Flow(FlowSpec):
    @step
    def start(self):
        self.n = 0
        self.next(self.poll)

    @step
    def poll(self):
        self.n += 1
        self.state = "ready" if self.n >= 3 else "waiting"
        self.next({"waiting": self.poll, "ready": self.end}, condition="state")

    @step
    def end(self):
        pass
