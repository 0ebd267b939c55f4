from metaflow import FlowSpec, card, step


class Flow(FlowSpec):
    @card
    @card(type="blank", id="my-notes")  # expect: SFN140
    @card(type="blank", id="ok", timeout=-3)  # expect: SFN140
    @step
    def start(self):
        self.next(self.end)

    @card(typ="blank")  # expect: SFN145
    @step
    def end(self):
        pass
