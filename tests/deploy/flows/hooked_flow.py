"""A flow whose exit hooks run as Batch jobs after the run."""

from sfncompile import FlowSpec, exit_hook, step


def announce(run):
    print("hook saw", run)


@exit_hook(on_success=["announce"], on_error=["announce"])
class HookedFlow(FlowSpec):
    @step
    def start(self):
        self.value = 1
        self.next(self.end)

    @step
    def end(self):
        pass
