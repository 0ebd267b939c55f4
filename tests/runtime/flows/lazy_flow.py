import os

from sfncompile import FlowSpec, step


class LazyFlow(FlowSpec):
    """100 artifacts; the next step reads one of them."""

    @step
    def start(self):
        for i in range(100):
            setattr(self, f"a{i}", os.urandom(64 << 10))
        self.next(self.read_one)

    @step
    def read_one(self):
        self.length = len(self.a7)
        self.next(self.end)

    @step
    def end(self):
        pass
