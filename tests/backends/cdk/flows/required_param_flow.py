"""A flow with a required parameter and typed ones, for trigger validation."""

from sfncompile import FlowSpec, JSONType, Parameter, step


class RequiredParamFlow(FlowSpec):
    count = Parameter("count", required=True, type=int, help="how many")
    ratio = Parameter("ratio", default=0.5, help="a float")
    verbose = Parameter("verbose", default=False, help="a flag")
    config = Parameter("config", default='{"a": 1}', type=JSONType, help="JSON")

    @step
    def start(self):
        self.total = self.count * self.ratio
        self.next(self.end)

    @step
    def end(self):
        print(self.total)
