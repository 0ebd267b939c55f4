from metaflow import FlowSpec, Parameter, step


class ForeachInSwitch(FlowSpec):
    mode = Parameter("mode", default="process")

    @step
    def start(self):
        self.items = ["i1", "i2"]
        self.next({"process": self.process_items, "skip": self.skip_processing}, condition="mode")

    @step
    def process_items(self):
        self.next(self.do_work, foreach="items")

    @step
    def do_work(self):
        self.x = self.input.upper()
        self.next(self.join_work)

    @step
    def join_work(self, inputs):
        self.xs = [i.x for i in inputs]
        self.next(self.end)

    @step
    def skip_processing(self):
        self.xs = ["skipped"]
        self.next(self.end)

    @step
    def end(self):
        print("END", self.xs)


if __name__ == "__main__":
    ForeachInSwitch()
