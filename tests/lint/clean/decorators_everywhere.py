from sfncompile import FlowSpec, IncludeFile, JSONType, Parameter, batch, catch, conda, environment, project, pypi, resources, retry, schedule, step, timeout, trigger, trigger_on_finish


@project(name="demo_project")
@schedule(weekly=True)
@trigger(event="data_ready")
class Flow(FlowSpec):
    alpha = Parameter("alpha", default=0.5, help="a float")
    epochs = Parameter("epochs", default=3, type=int)
    verbose = Parameter("verbose", default=False, type=bool)
    config = Parameter("config", type=JSONType, default='{"a": 1}')
    data = IncludeFile("data", default="data.csv", is_text=True)

    @retry(times=0)
    @resources(cpu=1, memory=512, gpu=0)
    @step
    def start(self):
        self.next(self.train)

    @batch(cpu=2, memory=4096, image="python:3.11")
    @timeout(hours=1, minutes=30)
    @catch(var="train_error")
    @environment(vars={"MODE": "test", "LEVEL": 3})
    @retry(times=4, minutes_between_retries=0)
    @pypi(packages={"requests": "2.31.0"})
    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self):
        pass
