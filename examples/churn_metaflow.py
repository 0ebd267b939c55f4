"""A churn-scoring flow written for Metaflow, accepted unchanged.

Only the import line differs from the other examples: ``from metaflow
import ...``. sfncompile compiles it the same way, and the runtime provides
the ``metaflow`` names inside the container.
"""

from metaflow import FlowSpec, Parameter, current, retry, step

CUSTOMERS = [
    {"id": "c1", "days_since_login": 2, "tickets": 0, "plan": "pro"},
    {"id": "c2", "days_since_login": 45, "tickets": 3, "plan": "basic"},
    {"id": "c3", "days_since_login": 12, "tickets": 1, "plan": "basic"},
    {"id": "c4", "days_since_login": 90, "tickets": 0, "plan": "pro"},
]


class ChurnScoringFlow(FlowSpec):
    """Score customers with a hand-written churn rule and flag the risky ones."""

    risk_threshold = Parameter("risk_threshold", default=0.5, help="Flag customers at or above this score")

    @step
    def start(self):
        self.customers = list(CUSTOMERS)
        self.next(self.score)

    @retry(times=2)
    @step
    def score(self):
        self.scores = {}
        for c in self.customers:
            risk = min(1.0, c["days_since_login"] / 60) * 0.7 + min(1.0, c["tickets"] / 3) * 0.3
            if c["plan"] == "pro":
                risk *= 0.8
            self.scores[c["id"]] = round(risk, 3)
        self.next(self.flag)

    @step
    def flag(self):
        self.at_risk = sorted(cid for cid, s in self.scores.items() if s >= self.risk_threshold)
        self.scored_in_run = current.run_id
        self.next(self.end)

    @step
    def end(self):
        print(f"{len(self.at_risk)} customers at risk: {', '.join(self.at_risk)}")


if __name__ == "__main__":
    ChurnScoringFlow()
