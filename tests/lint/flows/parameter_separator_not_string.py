from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    sizes = Parameter("sizes", type=int, default=3, separator=",")  # expect: SFN158

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
