from metaflow import FlowSpec, step

class SwitchInBranch(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)
    @step
    def a(self):
        self.condition = "case1"
        self.next({"case1": self.c, "case2": self.d}, condition="condition")
    @step
    def b(self):
        self.x = "b"
        self.next(self.join)
    @step
    def c(self):
        self.x = "c"
        self.next(self.join)
    @step
    def d(self):
        self.x = "d"
        self.next(self.join)
    @step
    def join(self, inputs):
        self.xs = sorted(i.x for i in inputs)
        print("XS", self.xs, len(inputs))
        self.next(self.end)
    @step
    def end(self):
        print("END", self.xs)

if __name__ == "__main__":
    SwitchInBranch()
