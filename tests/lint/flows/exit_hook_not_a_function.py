from metaflow import FlowSpec, exit_hook, step

NOT_A_FUNCTION = "notify"


def notify(run=None):
    print("finished", run)


@exit_hook(on_success=[notify], on_error=["notify_missing"])  # expect: SFN147
class Flow(FlowSpec):

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
