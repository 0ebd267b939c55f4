from sfncompile import FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, environment, project, pypi, resources, retry, schedule, step, timeout, trigger, trigger_on_finish


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.next(self.l1, self.l2)

    @step
    def l1(self):
        self.next(self.left_join)

    @step
    def l2(self):
        self.next(self.left_join)

    @step
    def left_join(self, inputs):
        self.next(self.join)

    @step
    def right(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
