import os

from sfncompile import FlowSpec, current, step


class ResumeFlow(FlowSpec):
    @step
    def start(self):
        self.token = os.urandom(16).hex()  # differs on every real execution
        self.next(self.a)

    @step
    def a(self):
        self.big = os.urandom(1 << 20)
        self.next(self.b)

    @step
    def b(self):
        if os.environ.get("FAIL_B") == "1":
            raise RuntimeError("b is broken")
        self.origin = current.origin_run_id
        self.next(self.end)

    @step
    def end(self):
        self.result = (self.token, len(self.big), self.origin)
