"""Valid under Metaflow (regression, issue 9): a parameter assigned inside
try/except AttributeError (the runtime raises, the step expects it), a step
named `plot` that sets self.plot, and the names Metaflow's test flows import."""
import os

from metaflow import (Config, FlowSpec, FlowMutator, IncludeFile, JSONType, Parameter, StepMutator,
                      UserStepDecorator, config_expr, current, parallel, project, step, user_step_decorator)
from metaflow.exception import MetaflowException


class Flow(FlowSpec):
    alpha = Parameter("alpha", default=1)
    LIMIT = 3

    @step
    def start(self):
        from metaflow import current
        from metaflow.metaflow_current import current as same

        try:
            self.alpha = 5
        except AttributeError:
            pass
        try:
            self.LIMIT = 4
        except (KeyError, AttributeError):
            pass
        self.same = same is current
        self.next(self.plot)

    @step
    def plot(self):
        self.plot = {"kind": "bar"}
        self.next(self.end)

    @step
    def end(self):
        if os.environ.get("NEVER"):
            raise MetaflowException("unused")
