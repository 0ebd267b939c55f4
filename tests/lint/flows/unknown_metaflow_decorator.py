from metaflow import FlowSpec, step, nvidia


def timed(func):
    return func


class Flow(FlowSpec):
    @nvidia(gpu=1)  # expect: SFN141
    @step
    @timed
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
