"""A/B test analysis per customer segment: a static split inside a foreach.

For every segment (foreach), two analyses run side by side (static split):
conversion rates and revenue per user. The split's join combines them
into one verdict per segment; the foreach join gathers all segments.
"""

import random

from sfncompile import FlowSpec, Parameter, step


def simulate(segment, variant, users):
    rng = random.Random(f"{segment}-{variant}")
    base = {"new": 0.08, "returning": 0.15, "vip": 0.3}[segment]
    lift = 0.02 if variant == "B" else 0.0
    return [{"converted": rng.random() < base + lift, "revenue": rng.uniform(5, 50)} for _ in range(users)]


class ABTestSegmentsFlow(FlowSpec):
    """Compare variants A and B in every customer segment."""

    users_per_variant = Parameter("users_per_variant", default=300, help="Simulated users per variant")

    @step
    def start(self):
        self.segments = ["new", "returning", "vip"]
        self.next(self.segment, foreach="segments")

    @step
    def segment(self):
        self.name_of_segment = self.input
        self.events = {v: simulate(self.input, v, self.users_per_variant) for v in ("A", "B")}
        self.next(self.conversion, self.revenue)

    @step
    def conversion(self):
        self.rates = {v: sum(e["converted"] for e in ev) / len(ev) for v, ev in self.events.items()}
        self.next(self.verdict)

    @step
    def revenue(self):
        self.arpu = {v: sum(e["revenue"] for e in ev if e["converted"]) / len(ev)
                     for v, ev in self.events.items()}
        self.next(self.verdict)

    @step
    def verdict(self, inputs):
        self.segment_name = inputs.conversion.name_of_segment
        self.rates = inputs.conversion.rates
        self.arpu = inputs.revenue.arpu
        self.winner = "B" if self.arpu["B"] > self.arpu["A"] else "A"
        self.next(self.summarize)

    @step
    def summarize(self, inputs):
        self.results = {t.segment_name: {"winner": t.winner, "rates": t.rates, "arpu": t.arpu}
                        for t in inputs}
        self.next(self.end)

    @step
    def end(self):
        for segment in sorted(self.results):
            r = self.results[segment]
            print(f"{segment:<10} winner={r['winner']} conversion A={r['rates']['A']:.3f} "
                  f"B={r['rates']['B']:.3f}")


if __name__ == "__main__":
    ABTestSegmentsFlow()
