from sfncompile import FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, environment, project, pypi, resources, retry, schedule, step, timeout, trigger, trigger_on_finish


class Flow(FlowSpec):
    @step(start=True, end=True)
    def only(self):
        self.value = 42
