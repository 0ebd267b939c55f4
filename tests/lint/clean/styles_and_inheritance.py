"""A flow written in less common but valid styles."""

from metaflow import FlowSpec, Parameter, current, retry, step


def default_region(context):
    return "eu-west-1"


class BaseSteps(FlowSpec):
    """Shared steps live in a base class in the same file."""

    @step
    def end(self) -> None:
        print("done", current.run_id)


class StylesFlow(BaseSteps):
    mode = Parameter("mode", default="fast", help="fast or thorough")
    region = Parameter("region", default=default_region)
    sizes = Parameter("sizes", default="1,2,3", separator=",")

    @step
    def start(s) -> None:
        """The receiver need not be called self."""
        s.next(s.fan, foreach="sizes")

    @retry(times=2)
    @step
    def fan(self):
        self.size = int(self.input)
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.total = sum(i.size for i in inputs)
        self.next(self.route)

    @step
    def route(self):
        self.next({"fast": self.quick, "thorough": self.slow}, condition="mode")

    @step
    def quick(self):
        self.next(self.end)

    @step
    def slow(self):
        self.next(self.end)
