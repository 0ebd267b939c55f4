from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.route = "a"
        self.next({}, condition="route")  # expect: SFN123

    @step
    def end(self):
        pass
