from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


@schedule(daily=True)
class Flow(FlowSpec):
    region = Parameter("region", required=True)  # expect: SFN156

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
