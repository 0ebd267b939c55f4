"""Metaflow's authoring surface inside tasks (issue 9): submodules, read-only
parameters and constants, METAFLOW_RUN_<PARAM>, `current` in a parameter
default, @project names, user step decorators, Metaflow's exception types."""
import os

from metaflow import FlowSpec, Parameter, catch, current, parallel_map, project, step, user_step_decorator
from metaflow.exception import ExternalCommandFailed, MetaflowException


def seen_by_default(ctx):
    # Metaflow fills `current` (run-level fields) before parameter defaults run.
    return f"{ctx.parameter_name}:{ctx.flow_name}:{current.flow_name}:{current.project_name}"


@user_step_decorator
def wrapped(step_name, flow, inputs=None, attributes=None):
    flow.before = f"before {step_name}"
    yield
    flow.after = f"after {step_name}"


@project(name="surface")
class SurfaceFlow(FlowSpec):
    from_env = Parameter("from_env", default="default")
    computed = Parameter("computed", default=seen_by_default)
    LIMIT = 3
    NAMES = ["a", "b"]

    @wrapped
    @step
    def start(self):
        try:
            self.from_env = "changed"
            self.param_assignment = "allowed"
        except AttributeError as exc:
            self.param_assignment = f"refused: {exc}"
        try:
            self.LIMIT = 4
            self.constant_assignment = "allowed"
        except AttributeError:
            self.constant_assignment = "refused"
        import metaflow.plugins.cards.exception as card_errors
        from metaflow.cards import get_cards
        from metaflow.metaflow_current import current as same_current
        from metaflow.util import is_stringish

        try:
            get_cards(current.pathspec)
        except card_errors.CardNotPresentException:
            self.cards = "none"
        self.same_current = same_current is current
        self.stringish = is_stringish(b"x") and is_stringish("x") and not is_stringish(1)
        self.squares = parallel_map(lambda x: x * x, [1, 2, 3])
        self.fields = {"branch_name": current.branch_name, "project_flow_name": current.project_flow_name,
                       "project_name": current.project_name, "is_production": current.is_production,
                       "pathspec": current.pathspec, "tags": sorted(current.tags),
                       "run_id_matches": current.run.id == current.run_id,
                       "task_pathspec": current.task.pathspec}
        self.next(self.fail)

    @catch(var="failure")
    @step
    def fail(self):
        if not os.environ.get("NEVER_SET_IN_THIS_TEST"):
            raise ExternalCommandFailed("catch me!")
        self.next(self.end)

    @step
    def end(self):
        self.failure_type = self.failure.type
        self.failure_text = self.failure.exception
        self.is_metaflow_exception = issubclass(ExternalCommandFailed, MetaflowException)
