"""A switch loop that fails in its sixth round until it is resumed (Metaflow's
ResumeRecursiveSwitchFlowTest shape)."""

from metaflow import FlowSpec, current, step


class LoopResumeFlow(FlowSpec):
    @step
    def start(self):
        self.count = 0
        self.next(self.loop_step)

    @step
    def loop_step(self):
        self.count += 1
        if not current.origin_run_id and self.count == 6:
            raise RuntimeError("round 6 fails before a resume")
        self.loop_status = "continue" if self.count < 10 else "exit"
        self.next({"continue": self.loop_step, "exit": self.exit_loop}, condition="loop_status")

    @step
    def exit_loop(self):
        self.next(self.end)

    @step
    def end(self):
        self.final = self.count


if __name__ == "__main__":
    LoopResumeFlow()
