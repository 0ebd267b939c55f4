from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.spin)

    @step
    def spin(self):
        self.next(self.spin)  # expect: SFN115

    @step
    def end(self):  # expect: SFN116
        pass
