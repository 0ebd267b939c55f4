from metaflow import FlowSpec, card, current, step
from metaflow.cards import Markdown


class SeveralCardsFlow(FlowSpec):
    @card
    @card(type="blank", id="notes", timeout=30, options={"title": "Notes"}, save_errors=False)
    @step
    def start(self):
        current.card["notes"].append(Markdown("# hi"))
        self.next(self.end)

    @step
    def end(self):
        pass
