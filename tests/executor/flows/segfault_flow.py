"""A step that prints a line and then crashes the interpreter (Metaflow's DetectSegFaultTest)."""

from metaflow import FlowSpec, step


class SegfaultFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        import ctypes

        print("Crash and burn!")
        ctypes.string_at(0)


if __name__ == "__main__":
    SegfaultFlow()
