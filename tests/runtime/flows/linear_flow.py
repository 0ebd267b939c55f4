from sfncompile import FlowSpec, JSONType, Parameter, current, step


class LinearFlow(FlowSpec):
    """start → middle → end with typed parameters."""

    alpha = Parameter("alpha", default=0.5, help="a float")
    count = Parameter("count", default=3)
    flag = Parameter("flag", default=False)
    name_ = Parameter("label", default="x")
    config = Parameter("config", type=JSONType, default='{"k": 1}')

    @step
    def start(self):
        self.seen = {"alpha": self.alpha, "count": self.count, "flag": self.flag, "label": self.name_,
                     "config": self.config}
        self.info = {"flow": current.flow_name, "run": current.run_id, "step": current.step_name,
                     "task": current.task_id, "retry": current.retry_count, "pathspec": current.pathspec,
                     "namespace": current.namespace, "production": current.is_production,
                     "user": current.username}
        self.numbers = list(range(self.count))
        print("start says hi")
        self.next(self.middle)

    @step
    def middle(self):
        self.total = sum(self.numbers) * self.alpha
        self.next(self.end)

    @step
    def end(self):
        self.final = (self.total, self.count)
        print("done", self.final)
