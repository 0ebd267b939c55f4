"""User step decorators (Metaflow 2.16+): before/after code, attributes, a class with pre/post_step,
a swallowed exception (the step then goes on), a skipped step, a replaced step, a foreach step
skipped with its own transition. Expected values recorded from Metaflow 2.19.39
(tests/runtime/test_mutators.py)."""
from metaflow import FlowSpec, UserStepDecorator, step, user_step_decorator


@user_step_decorator
def timed(step_name, flow, inputs=None, attributes=None):
    flow.before = (step_name, dict(attributes or {}))
    yield
    flow.after = step_name


@user_step_decorator
def swallow(step_name, flow, inputs=None):
    try:
        yield
    except ValueError as exc:
        flow.swallowed = str(exc)


@user_step_decorator
def skipper(step_name, flow, inputs=None):
    flow.skipped = step_name
    yield {}


def _replacement(flow):
    flow.replaced = "yes"
    return True  # "call the step's usual self.next()"


@user_step_decorator
def replace(step_name, flow, inputs=None):
    yield _replacement


class Counter(UserStepDecorator):
    def init(self, *args, **kwargs):
        self.n = kwargs.get("n", 1)

    def pre_step(self, step_name, flow, inputs=None):
        flow.counted = self.n

    def post_step(self, step_name, flow, exception=None):
        flow.post = step_name


class UsdFlow(FlowSpec):
    @timed(k=1)
    @Counter(n=3)
    @step
    def start(self):
        self.x = 1
        self.items = [1, 2]
        self.next(self.mid)

    @swallow
    @step
    def mid(self):
        if self.x == 1:
            raise ValueError("boom")
        self.next(self.skip)

    @skipper
    @step
    def skip(self):
        self.should_not = 1
        self.next(self.fan, foreach="items")

    @replace
    @step
    def fan(self):
        self.should_not_either = 1
        self.next(self.join)

    @step
    def join(self, inputs):
        self.replaced_all = sorted(i.replaced for i in inputs)
        self.merge_artifacts(inputs, include=["before", "after", "counted", "post", "swallowed", "skipped"])
        self.next(self.end)

    @step
    def end(self):
        self.summary = [self.before, self.after, self.counted, self.post, self.swallowed, self.skipped,
                        hasattr(self, "should_not"), self.replaced_all]


if __name__ == "__main__":
    UsdFlow()
