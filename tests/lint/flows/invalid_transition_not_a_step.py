from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        following = self.end
        self.next(following)  # expect: SFN113

    @step
    def end(self):
        pass
