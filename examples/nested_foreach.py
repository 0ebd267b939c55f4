"""Nested foreach: every model family on every dataset.

The outer foreach fans out over datasets, the inner one over models for
that dataset; the inner join summarises a dataset, the outer join builds the
whole results table.
"""

import random

from sfncompile import FlowSpec, Parameter, step


def make_dataset(name, size):
    rng = random.Random(name)
    slope = {"sales": 2.0, "traffic": -0.5, "weather": 0.8}.get(name, 1.0)
    return [(x, slope * x + rng.gauss(0.0, 0.2)) for x in (rng.uniform(0, 1) for _ in range(size))]


def predict(model, rows):
    if model == "mean":
        guess = sum(y for _, y in rows) / len(rows)
        return [guess for _ in rows]
    if model == "last_value":
        return [rows[-1][1] for _ in rows]
    # "least_squares": a line through the origin.
    w = sum(x * y for x, y in rows) / sum(x * x for x, _ in rows)
    return [w * x for x, _ in rows]


class NestedForeachFlow(FlowSpec):
    """Benchmark models across datasets with a foreach inside a foreach."""

    rows_per_dataset = Parameter("rows_per_dataset", default=50, help="Rows drawn per dataset")

    @step
    def start(self):
        self.datasets = ["sales", "traffic", "weather"]
        self.next(self.load, foreach="datasets")

    @step
    def load(self):
        """One task per dataset."""
        self.dataset = self.input
        self.rows = make_dataset(self.dataset, self.rows_per_dataset)
        self.models = ["mean", "last_value", "least_squares"]
        self.next(self.score, foreach="models")

    @step
    def score(self):
        """One task per (dataset, model)."""
        self.model = self.input
        predictions = predict(self.model, self.rows)
        self.error = sum((p - y) ** 2 for p, (_, y) in zip(predictions, self.rows)) / len(self.rows)
        self.next(self.best_model)

    @step
    def best_model(self, inputs):
        """Join the models of one dataset."""
        self.dataset = inputs[0].dataset
        self.scores = {task.model: task.error for task in inputs}
        self.winner = min(self.scores, key=self.scores.get)
        self.next(self.collect)

    @step
    def collect(self, inputs):
        """Join the datasets."""
        self.table = {task.dataset: task.scores for task in inputs}
        self.winners = {task.dataset: task.winner for task in inputs}
        self.next(self.end)

    @step
    def end(self):
        for dataset, model in sorted(self.winners.items()):
            print(f"{dataset}: {model} (mse {self.table[dataset][model]:.4f})")


if __name__ == "__main__":
    NestedForeachFlow()
