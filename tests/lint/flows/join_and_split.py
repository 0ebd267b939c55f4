from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):  # expect: SFN110
        self.next(self.c, self.d)

    @step
    def c(self):
        self.next(self.final_join)

    @step
    def d(self):
        self.next(self.final_join)

    @step
    def final_join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
