from sfncompile import FlowSpec, conda, step


class CondaFlow(FlowSpec):
    @conda(packages={"numpy": "1.26.4"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
