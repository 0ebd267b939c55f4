from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project, pypi, conda


class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @pypi(packages={"requests": "2.31.0"})
    @conda(packages={"numpy": "1.26.0"})  # expect: SFN146
    @step
    def end(self):
        pass
