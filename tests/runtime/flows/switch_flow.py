import os

from sfncompile import FlowSpec, step


class SwitchFlow(FlowSpec):
    """Routes on a computed size class; SWITCH_VALUE overrides it for tests."""

    @step
    def start(self):
        self.size = os.environ.get("SWITCH_VALUE", "small")
        self.next({"small": self.small, "large": self.large}, condition="size")

    @step
    def small(self):
        self.route = "small"
        self.next(self.end)

    @step
    def large(self):
        self.route = "large"
        self.next(self.end)

    @step
    def end(self):
        pass
