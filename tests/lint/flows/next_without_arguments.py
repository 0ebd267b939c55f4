from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next()  # expect: SFN113

    @step
    def end(self):
        pass
