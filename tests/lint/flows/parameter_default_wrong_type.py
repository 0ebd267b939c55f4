from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    epochs = Parameter("epochs", type=int, default="ten")  # expect: SFN153
    config = Parameter("config", type=JSONType, default="{not json")  # expect: SFN153

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
