"""Retrain until the model is good enough: a loop made with a switch.

``evaluate`` routes back to ``train`` while the validation error is above
the target and the iteration budget is not spent, then on to ``publish``.
Each round doubles the number of training epochs.
"""

import random

from sfncompile import FlowSpec, Parameter, retry, step


def fit_slope(rows, epochs, learning_rate=0.5):
    w = 0.0
    for _ in range(epochs):
        grad = sum(2 * (w * x - y) * x for x, y in rows) / len(rows)
        w -= learning_rate * grad
    return w


class RetrainUntilGoodFlow(FlowSpec):
    """Train with more epochs each round until the error is below a target."""

    target_error = Parameter("target_error", default=0.05, help="Stop when the validation mse is below this")
    max_iterations = Parameter("max_iterations", default=6, help="Never train more rounds than this")

    @step
    def start(self):
        rng = random.Random(3)
        rows = [(x, 2.5 * x + rng.gauss(0.0, 0.1)) for x in (rng.uniform(-1, 1) for _ in range(60))]
        self.train_rows, self.valid_rows = rows[:40], rows[40:]
        self.iteration = 0
        self.epochs = 1
        self.history = []
        self.next(self.train)

    @retry(times=1)
    @step
    def train(self):
        self.iteration += 1
        self.weight = fit_slope(self.train_rows, self.epochs)
        self.next(self.evaluate)

    @step
    def evaluate(self):
        self.error = sum((self.weight * x - y) ** 2 for x, y in self.valid_rows) / len(self.valid_rows)
        self.history.append({"iteration": self.iteration, "epochs": self.epochs, "mse": self.error})
        good = self.error <= self.target_error
        out_of_budget = self.iteration >= self.max_iterations
        self.decision = "publish" if good or out_of_budget else "retrain"
        self.epochs *= 2
        self.next({"retrain": self.train, "publish": self.publish}, condition="decision")

    @step
    def publish(self):
        self.converged = self.error <= self.target_error
        self.next(self.end)

    @step
    def end(self):
        status = "converged" if self.converged else "gave up"
        print(f"{status} after {self.iteration} rounds: mse={self.error:.4f} weight={self.weight:.3f}")


if __name__ == "__main__":
    RetrainUntilGoodFlow()
