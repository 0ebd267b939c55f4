"""Branch-and-merge feature engineering.

A static split computes independent feature groups in parallel; the join
combines them and uses ``merge_artifacts`` to carry over what every branch
shares unchanged (the raw records) while the branch-specific features are
merged by hand.
"""

from sfncompile import FlowSpec, Parameter, step

CUSTOMERS = [
    {"id": 1, "age": 34, "visits": [3, 5, 2], "spend": [20.0, 55.5, 12.0], "city": "Lyon"},
    {"id": 2, "age": 51, "visits": [1, 0, 4], "spend": [5.0, 0.0, 80.0], "city": "Paris"},
    {"id": 3, "age": 27, "visits": [7, 6, 9], "spend": [90.0, 61.0, 75.5], "city": "Nantes"},
    {"id": 4, "age": 45, "visits": [2, 2, 2], "spend": [15.0, 18.0, 16.5], "city": "Paris"},
]


class FeatureBranchesFlow(FlowSpec):
    """Compute three feature groups in parallel and merge them."""

    min_visits = Parameter("min_visits", default=1, help="Drop customers with fewer total visits")

    @step
    def start(self):
        self.customers = [c for c in CUSTOMERS if sum(c["visits"]) >= self.min_visits]
        self.next(self.demographics, self.activity, self.monetary)

    @step
    def demographics(self):
        self.demo_features = {c["id"]: {"age_bucket": c["age"] // 10 * 10,
                                        "big_city": c["city"] == "Paris"} for c in self.customers}
        self.next(self.merge_features)

    @step
    def activity(self):
        self.activity_features = {c["id"]: {"visits_total": sum(c["visits"]),
                                            "visits_trend": c["visits"][-1] - c["visits"][0]}
                                  for c in self.customers}
        self.next(self.merge_features)

    @step
    def monetary(self):
        self.monetary_features = {c["id"]: {"spend_total": sum(c["spend"]),
                                            "spend_max": max(c["spend"])} for c in self.customers}
        self.next(self.merge_features)

    @step
    def merge_features(self, inputs):
        """One row per customer with every feature group."""
        self.features = {}
        for c in inputs.demographics.customers:
            row = {"id": c["id"]}
            row.update(inputs.demographics.demo_features[c["id"]])
            row.update(inputs.activity.activity_features[c["id"]])
            row.update(inputs.monetary.monetary_features[c["id"]])
            self.features[c["id"]] = row
        # ``customers`` is identical in every branch: merge it automatically;
        # the per-branch feature dicts were combined above.
        self.merge_artifacts(inputs, exclude=["demo_features", "activity_features", "monetary_features"])
        self.next(self.end)

    @step
    def end(self):
        for cid in sorted(self.features):
            print(self.features[cid])


if __name__ == "__main__":
    FeatureBranchesFlow()
