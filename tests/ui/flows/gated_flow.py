"""A run that waits in its middle step until the test creates a gate file (GATE env var)."""

import os
import time

from metaflow import FlowSpec, step


class GatedFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.wait)

    @step
    def wait(self):
        gate = os.environ["GATE"]
        deadline = time.time() + 120
        while not os.path.exists(gate) and time.time() < deadline:
            print("waiting for the gate", flush=True)
            time.sleep(0.3)
        print("gate opened", flush=True)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    GatedFlow()
