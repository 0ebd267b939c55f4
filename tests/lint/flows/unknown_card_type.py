from metaflow import FlowSpec, card, step


class Flow(FlowSpec):
    @card(type="card_from_an_extension_package")  # expect: SFN148
    @step
    def start(self):
        self.next(self.end)

    @card(type="blank")
    @step
    def end(self):
        pass
