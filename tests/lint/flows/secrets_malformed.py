from metaflow import FlowSpec, secrets, step


class Flow(FlowSpec):

    @secrets(sources=[{"type": "vault", "id": "x"}])  # expect: SFN140
    @step
    def start(self):
        self.next(self.middle)

    @secrets(sources="db-creds")  # expect: SFN140
    @step
    def middle(self):
        self.next(self.end)

    @secrets(sources=[{"options": {}}], role=3)  # expect: SFN140
    @step
    def end(self):
        pass
