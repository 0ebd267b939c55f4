from sfncompile import FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, environment, project, pypi, resources, retry, schedule, step, timeout, trigger, trigger_on_finish


class Flow(FlowSpec):
    @step
    def start(self):
        self.regions = ["eu", "us"]
        self.next(self.region, foreach="regions")

    @step
    def region(self):
        self.next(self.stats, self.models)

    @step
    def stats(self):
        self.next(self.region_join)

    @step
    def models(self):
        self.kinds = ["a", "b"]
        self.next(self.fit, foreach="kinds")

    @step
    def fit(self):
        self.next(self.models_join)

    @step
    def models_join(self, inputs):
        self.next(self.region_join)

    @step
    def region_join(self, inputs):
        self.next(self.all_join)

    @step
    def all_join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
