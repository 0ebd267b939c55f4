from sfncompile import FlowSpec, Parameter, step, retry, resources, timeout, catch, environment, schedule, batch, parallel, project


@schedule(cron="0 3 * * ? *", timezone="Paris/France")  # expect: SFN140
class Flow(FlowSpec):

    @step
    def start(self):
        self.next(self.train)

    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self):
        pass
