from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.route = "only"
        self.next({"only": self.end}, condition="route")  # expect: SFN121

    @step
    def end(self):
        pass
