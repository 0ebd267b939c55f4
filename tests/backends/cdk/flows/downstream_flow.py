"""Runs after TriggeredFlow succeeds; notifies on failure."""

from sfncompile import FlowSpec, Parameter, exit_hook, project, step, trigger_on_finish


def notify(run):
    print("run finished", run)


@project(name="demo")
@trigger_on_finish(flow="TriggeredFlow")
@exit_hook(on_error=["notify"])
class DownstreamFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
