from sfncompile import FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, environment, project, pypi, resources, retry, schedule, step, timeout, trigger, trigger_on_finish


@schedule(cron="0/15 8-18 ? * MON-FRI *", timezone="America/New_York")
@trigger_on_finish(flow="UpstreamFlow")
class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
