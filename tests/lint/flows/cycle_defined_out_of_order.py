from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def c(self):
        self.next(self.a)  # expect: SFN115

    @step
    def start(self):
        self.next(self.a)

    @step
    def b(self):
        self.next(self.c)

    @step
    def a(self):
        self.next(self.b)

    @step
    def end(self):  # expect: SFN116
        pass
