from metaflow import FlowSpec, Parameter, step


class SwitchNested(FlowSpec):
    first = Parameter("first", default="case1")
    second = Parameter("second", default="case2_2")

    @step
    def start(self):
        self.next({"case1": self.switch2, "case2": self.b}, condition="first")

    @step
    def switch2(self):
        self.next({"case2_1": self.c, "case2_2": self.d}, condition="second")

    @step
    def b(self):
        self.xs = ["b"]
        self.next(self.end)

    @step
    def c(self):
        self.xs = ["c"]
        self.next(self.end)

    @step
    def d(self):
        self.xs = ["d"]
        self.next(self.end)

    @step
    def end(self):
        print("END", self.xs)


if __name__ == "__main__":
    SwitchNested()
