from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.a1, self.a2)

    @step
    def a1(self):
        self.next(self.cross)

    @step
    def a2(self):
        self.next(self.join_a)

    @step
    def b(self):
        self.next(self.cross)

    @step
    def cross(self, inputs):  # expect: SFN120
        self.next(self.join_a)

    @step
    def join_a(self, inputs):  # expect: SFN120
        self.next(self.end)

    @step
    def end(self):  # expect: SFN117
        pass
