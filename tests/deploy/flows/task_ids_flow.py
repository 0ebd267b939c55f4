"""Every kind of task a run can have, each storing its ``current.task_id``: the tasks of a
static split, of a foreach and the visits of a switch loop (issue 9: run-unique task ids).
FAIL_LOOP_ROUND=<n> fails the loop's n-th round unless the run is a resume."""

import os

from metaflow import FlowSpec, current, step


class TaskIdsFlow(FlowSpec):
    @step
    def start(self):
        self.mine = current.task_id
        self.next(self.a, self.b)

    @step
    def a(self):
        self.mine = current.task_id
        self.next(self.join)

    @step
    def b(self):
        self.mine = current.task_id
        self.next(self.join)

    @step
    def join(self, inputs):
        self.branch_ids = [i.mine for i in inputs]
        self.mine = current.task_id
        self.next(self.fan)

    @step
    def fan(self):
        self.mine = current.task_id
        self.items = ["x", "y", "z"]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.mine = current.task_id
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.item_ids = [i.mine for i in inputs]
        self.mine = current.task_id
        self.rounds = 0
        self.loop_ids = []
        self.next(self.loop)

    @step
    def loop(self):
        self.rounds += 1
        if not current.origin_run_id and str(self.rounds) == os.environ.get("FAIL_LOOP_ROUND"):
            raise RuntimeError(f"round {self.rounds} fails before a resume")
        self.mine = current.task_id
        self.loop_ids = self.loop_ids + [current.task_id]
        self.state = "again" if self.rounds < 3 else "done"
        self.next({"again": self.loop, "done": self.end}, condition="state")

    @step
    def end(self):
        self.mine = current.task_id


if __name__ == "__main__":
    TaskIdsFlow()
