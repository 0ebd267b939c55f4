"""One step on a team's own queue, running as the team's role."""

from sfncompile import FlowSpec, batch, step


class TeamQueueFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.heavy)

    @batch(queue="team-queue", iam_role="arn:aws:iam::111122223333:role/team-job", cpu=2, memory=4096)
    @step
    def heavy(self):
        self.done = True
        self.next(self.end)

    @step
    def end(self):
        pass
