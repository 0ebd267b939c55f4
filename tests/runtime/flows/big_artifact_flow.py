import os
import time

from sfncompile import FlowSpec, step


class Gate:
    """Pickling this blocks until the file named by $GATE exists: the test kills the
    task while the large artifact before it is half written."""

    def __reduce__(self):
        while not os.path.exists(os.environ["GATE"]):
            time.sleep(0.01)
        return (Gate, ())


class BigArtifactFlow(FlowSpec):
    @step
    def start(self):
        self.payload = [os.urandom(8 << 20) for _ in range(6)] + [Gate()]
        self.next(self.end)

    @step
    def end(self):
        self.sizes = [len(p) for p in self.payload[:-1]]
