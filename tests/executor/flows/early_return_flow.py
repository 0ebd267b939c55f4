"""A step with an early `return` before its self.next() (Metaflow's SecretsDecoratorTest has one
on a path that is not taken): `check` warns, the run goes on while the path is not taken and
fails the task when it is, as Metaflow's runtime does."""

from metaflow import FlowSpec, Parameter, step


class EarlyReturnFlow(FlowSpec):
    bail = Parameter("bail", type=bool, default=False)

    @step
    def start(self):
        self.seen = "start"
        if self.bail:
            return
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    EarlyReturnFlow()
