"""A flow whose directory holds modules named like the standard library's."""

from sfncompile import FlowSpec, step


class ShadowFlow(FlowSpec):
    @step
    def start(self):
        import helper  # the flow's own sibling module still imports

        self.values = {"x": helper.VALUE}
        self.next(self.end)

    @step
    def end(self):
        self.total = self.values["x"] + 1
