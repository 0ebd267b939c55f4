from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.merge_artifacts)

    @step
    def merge_artifacts(self):  # expect: SFN101
        self.next(self.end)

    @step
    def end(self):
        pass
