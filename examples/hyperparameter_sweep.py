"""A hyper-parameter sweep: one task per candidate, then keep the best.

``foreach`` fans out over the candidate regularisation strengths; the join
step receives every branch in ``inputs`` and picks the lowest validation error.
"""

import random

from sfncompile import FlowSpec, Parameter, resources, step


def ridge_fit(rows, alpha):
    """Closed-form ridge regression through the origin for y = w*x."""
    sxy = sum(x * y for x, y in rows)
    sxx = sum(x * x for x, _ in rows)
    return sxy / (sxx + alpha)


def mse(rows, w):
    return sum((w * x - y) ** 2 for x, y in rows) / len(rows)


class HyperparameterSweepFlow(FlowSpec):
    """Sweep ridge regression's alpha and keep the best model."""

    alphas = Parameter("alphas", help="Comma-separated alphas to try", default="0.0,0.1,1.0,10.0,100.0")
    seed = Parameter("seed", help="Random seed for the synthetic data", default=42)

    @step
    def start(self):
        """Make data and the list of candidates."""
        rng = random.Random(self.seed)
        rows = []
        for _ in range(120):
            x = rng.uniform(-1.0, 1.0)
            rows.append((x, 1.7 * x + rng.gauss(0.0, 0.3)))
        self.train_rows, self.valid_rows = rows[:80], rows[80:]
        self.candidates = [float(a) for a in self.alphas.split(",")]
        self.next(self.fit, foreach="candidates")

    @resources(cpu=1, memory=1024)
    @step
    def fit(self):
        """Fit one candidate; ``self.input`` is this task's alpha."""
        self.alpha = self.input
        self.weight = ridge_fit(self.train_rows, self.alpha)
        self.valid_error = mse(self.valid_rows, self.weight)
        self.next(self.pick_best)

    @step
    def pick_best(self, inputs):
        """Keep the candidate with the lowest validation error."""
        best = min(inputs, key=lambda task: task.valid_error)
        self.best_alpha = best.alpha
        self.best_weight = best.weight
        self.best_error = best.valid_error
        self.leaderboard = sorted((task.valid_error, task.alpha) for task in inputs)
        self.next(self.end)

    @step
    def end(self):
        print(f"best alpha={self.best_alpha} weight={self.best_weight:.3f} "
              f"validation mse={self.best_error:.4f}")


if __name__ == "__main__":
    HyperparameterSweepFlow()
