from sfncompile import FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, environment, project, pypi, resources, retry, schedule, step, timeout, trigger, trigger_on_finish


class Flow(FlowSpec):
    @step
    def start(self):
        self.n = 0
        self.next(self.work)

    @step
    def work(self):
        self.n += 1
        self.next(self.check)

    @step
    def check(self):
        self.verdict = "again" if self.n < 3 else "done"
        self.next({"again": self.work, "done": self.end}, condition="verdict")

    @step
    def end(self):
        pass
