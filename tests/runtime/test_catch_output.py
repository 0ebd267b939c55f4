"""What a caught failure looks like, as in Metaflow 2.19.39 (found running a public flow that
divides by each item of a foreach under @catch): the message on the task's stdout naming the
flow as ``str(self)`` does, and the caught task ``finished`` but not ``successful``."""

from __future__ import annotations

from tests.executor.conftest import LocalRuns

FLOW = '''
from metaflow import FlowSpec, catch, step

class CaughtFlow(FlowSpec):
    @step
    def start(self):
        self.divisors = [0, 2]
        self.words = ["a" * 25]
        print(str(self))
        self.next(self.divide, foreach="divisors")

    @catch(var="failed")
    @step
    def divide(self):
        self.res = 10 / self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = [i.res for i in inputs if not i.failed]
        self.words = inputs[0].words
        self.next(self.fan)

    @step
    def fan(self):
        self.next(self.long, foreach="words")

    @step
    def long(self):
        self.text = str(self)
        self.next(self.join2)

    @step
    def join2(self, inputs):
        self.texts = [i.text for i in inputs]
        self.results = inputs[0].results
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_caught_failure_output_and_status(tmp_path):
    path = tmp_path / "caught_flow.py"
    path.write_text(FLOW)
    runs = LocalRuns(tmp_path / "store")
    run_id, _ = runs.run(path)
    run = runs.client_run("CaughtFlow", run_id)
    assert run.successful
    assert run["end"].task.data.results == [5.0]
    assert run["join2"].task.data.texts == ["<flow CaughtFlow step long[0] (input: aaaaaaaaaaaaaaaaaaaa...)>"]
    assert run["start"].task.stdout.strip() == "<flow CaughtFlow step start>"
    caught, ok = run["divide"]["2.0"], run["divide"]["2.1"]  # divide is step 2, items 0 and 1
    assert caught.finished and not caught.successful and ok.finished and ok.successful
    lines = caught.stdout.splitlines()
    assert lines[0] == "@catch caught an exception from <flow CaughtFlow step divide[0] (input: 0)>"
    assert lines[1] == ">  Traceback (most recent call last):" and lines[-1] == ">  ZeroDivisionError: division by zero"
