"""Train and evaluate a linear model, end to end.

A linear pipeline a data scientist would start from: load (synthetic) data,
split it, fit a least-squares line, evaluate it on the held-out part and
keep the model only if it is good enough. Pure Python, so it runs anywhere.

    sfncompile check examples/train_evaluate.py
    sfncompile run examples/train_evaluate.py --param learning_rate=0.05
"""

import random

from sfncompile import FlowSpec, JSONType, Parameter, resources, retry, step


def mean(values):
    return sum(values) / len(values)


class TrainEvaluateFlow(FlowSpec):
    """Fit y = a*x + b by gradient descent and score it on a held-out set."""

    n_samples = Parameter("n_samples", help="How many synthetic rows to draw", default=200, type=int)
    learning_rate = Parameter("learning_rate", help="Gradient descent step size", default=0.05)
    test_fraction = Parameter("test_fraction", help="Share of rows held out", default=0.25, type=float)
    model_name = Parameter("model_name", help="Name recorded with the model", default="linear-v1")
    normalize = Parameter("normalize", help="Standardise x before fitting", default=True, type=bool)
    config = Parameter("config", help="Training options as JSON", type=JSONType,
                       default='{"epochs": 150, "seed": 7, "max_rmse": 1.5}')

    @step
    def start(self):
        """Draw a noisy line y = 3x + 2."""
        rng = random.Random(self.config["seed"])
        xs = [rng.uniform(-2.0, 2.0) for _ in range(self.n_samples)]
        self.rows = [(x, 3.0 * x + 2.0 + rng.gauss(0.0, 0.5)) for x in xs]
        self.next(self.split_data)

    @step
    def split_data(self):
        """Hold out the last part of the rows for evaluation."""
        cut = int(len(self.rows) * (1.0 - self.test_fraction))
        self.train_rows, self.test_rows = self.rows[:cut], self.rows[cut:]
        xs = [x for x, _ in self.train_rows]
        self.x_mean = mean(xs) if self.normalize else 0.0
        self.x_scale = (mean([(x - self.x_mean) ** 2 for x in xs]) ** 0.5) if self.normalize else 1.0
        self.next(self.train)

    @retry(times=2)
    @resources(cpu=2, memory=2048)
    @step
    def train(self):
        """Plain batch gradient descent on the training rows."""
        a, b = 0.0, 0.0
        rows = [((x - self.x_mean) / self.x_scale, y) for x, y in self.train_rows]
        for _ in range(self.config["epochs"]):
            grad_a = mean([2 * (a * x + b - y) * x for x, y in rows])
            grad_b = mean([2 * (a * x + b - y) for x, y in rows])
            a -= self.learning_rate * grad_a
            b -= self.learning_rate * grad_b
        self.coef = {"slope": a / self.x_scale, "intercept": b - a * self.x_mean / self.x_scale}
        self.next(self.evaluate)

    @step
    def evaluate(self):
        """Root mean squared error on the held-out rows."""
        slope, intercept = self.coef["slope"], self.coef["intercept"]
        errors = [(slope * x + intercept - y) ** 2 for x, y in self.test_rows]
        self.rmse = mean(errors) ** 0.5
        self.accepted = self.rmse <= self.config["max_rmse"]
        self.next(self.end)

    @step
    def end(self):
        """Report the model."""
        verdict = "accepted" if self.accepted else "rejected"
        print(f"{self.model_name}: slope={self.coef['slope']:.3f} "
              f"intercept={self.coef['intercept']:.3f} rmse={self.rmse:.3f} ({verdict})")


if __name__ == "__main__":
    TrainEvaluateFlow()
