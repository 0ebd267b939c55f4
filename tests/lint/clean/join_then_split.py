from sfncompile import FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, environment, project, pypi, resources, retry, schedule, step, timeout, trigger, trigger_on_finish


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.join1)

    @step
    def b(self):
        self.next(self.join1)

    @step
    def join1(self, inputs):
        self.merge_artifacts(inputs)
        self.next(self.resplit)

    @step
    def resplit(self):
        self.parts = [1, 2, 3]
        self.next(self.each, foreach="parts")

    @step
    def each(self):
        self.next(self.join2)

    @step
    def join2(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
