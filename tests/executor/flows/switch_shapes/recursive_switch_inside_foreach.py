from metaflow import FlowSpec, step


class RecursiveSwitchInsideForeach(FlowSpec):
    @step
    def start(self):
        self.items = [2, 3]
        self.next(self.start_loop_for_item, foreach="items")

    @step
    def start_loop_for_item(self):
        self.rounds = 0
        self.next(self.loop_body)

    @step
    def loop_body(self):
        self.rounds += 1
        self.should_continue = str(self.rounds < self.input)
        self.next({"True": self.loop_body, "False": self.exit_item_loop}, condition="should_continue")

    @step
    def exit_item_loop(self):
        self.x = f"{self.input}:{self.rounds}"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.xs = [i.x for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        print("END", self.xs)


if __name__ == "__main__":
    RecursiveSwitchInsideForeach()
