from metaflow import FlowSpec, step

class SwitchInForeach(FlowSpec):
    @step
    def start(self):
        self.items = ["a", "b", "a"]
        self.next(self.process, foreach="items")
    @step
    def process(self):
        self.t = self.input
        self.next({"a": self.ha, "b": self.hb}, condition="t")
    @step
    def ha(self):
        self.x = "ha" + str(self.index)
        self.next(self.join)
    @step
    def hb(self):
        self.x = "hb"+ str(self.index)
        self.next(self.join)
    @step
    def join(self, inputs):
        self.xs = [i.x for i in inputs]
        print("XS", self.xs)
        self.next(self.end)
    @step
    def end(self):
        print("END", self.xs)

if __name__ == "__main__":
    SwitchInForeach()
