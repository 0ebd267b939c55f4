from metaflow import FlowSpec, Parameter, step


class BranchInSwitch(FlowSpec):
    mode = Parameter("mode", default="process")

    @step
    def start(self):
        self.next({"process": self.process_branch, "skip": self.skip_path}, condition="mode")

    @step
    def process_branch(self):
        self.next(self.p1, self.p2)

    @step
    def p1(self):
        self.x = "p1"
        self.next(self.process_join)

    @step
    def p2(self):
        self.x = "p2"
        self.next(self.process_join)

    @step
    def process_join(self, inputs):
        self.xs = [i.x for i in inputs]
        self.next(self.end)

    @step
    def skip_path(self):
        self.xs = ["skipped"]
        self.next(self.end)

    @step
    def end(self):
        print("END", self.xs)


if __name__ == "__main__":
    BranchInSwitch()
