"""A flow started by an EventBridge event, deployed per @project branch."""

from sfncompile import FlowSpec, Parameter, project, step, trigger


@project(name="demo")
@trigger(event={"name": "data_ready", "parameters": {"alpha": "value", "label": "source"}})
class TriggeredFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5, type=float, help="smoothing")
    label = Parameter("label", default="none", help="where the data came from")

    @step
    def start(self):
        self.result = self.alpha * 2
        self.next(self.end)

    @step
    def end(self):
        print("label", self.label, "result", self.result)
