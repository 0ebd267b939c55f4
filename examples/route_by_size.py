"""Route work by data size with a switch.

Small inputs are processed in one task; large inputs are chunked and
processed with a foreach. The switch picks the path at run time from the
value of the ``size_class`` artifact; both paths meet again at ``report``.
"""

from sfncompile import FlowSpec, Parameter, resources, step


def word_counts(lines):
    counts = {}
    for line in lines:
        for word in line.lower().split():
            counts[word] = counts.get(word, 0) + 1
    return counts


class RouteBySizeFlow(FlowSpec):
    """Count words, choosing the processing path by input size."""

    n_lines = Parameter("n_lines", default=40, help="How many lines of text to generate")
    threshold = Parameter("threshold", default=100, help="Inputs with more lines than this are 'large'")

    @step
    def start(self):
        vocabulary = ["data", "flow", "step", "model", "batch", "state", "graph"]
        self.lines = [" ".join(vocabulary[(i * k) % len(vocabulary)] for k in range(1, 6))
                      for i in range(self.n_lines)]
        self.size_class = "large" if len(self.lines) > self.threshold else "small"
        self.next({"small": self.process_small, "large": self.chunk}, condition="size_class")

    @step
    def process_small(self):
        """Everything in one task."""
        self.counts = word_counts(self.lines)
        self.next(self.report)

    @step
    def chunk(self):
        """Cut the input into chunks of ``threshold`` lines."""
        self.chunks = [self.lines[i:i + self.threshold] for i in range(0, len(self.lines), self.threshold)]
        self.next(self.process_chunk, foreach="chunks")

    @resources(memory=2048)
    @step
    def process_chunk(self):
        self.counts = word_counts(self.input)
        self.next(self.combine)

    @step
    def combine(self, inputs):
        """Add the chunk counts together."""
        self.counts = {}
        for task in inputs:
            for word, n in task.counts.items():
                self.counts[word] = self.counts.get(word, 0) + n
        self.next(self.report)

    @step
    def report(self):
        """Both paths arrive here with ``counts``."""
        self.top_words = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        self.next(self.end)

    @step
    def end(self):
        print("top words:", self.top_words)


if __name__ == "__main__":
    RouteBySizeFlow()
