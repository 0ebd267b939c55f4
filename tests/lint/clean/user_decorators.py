"""The user's own decorators: defined in the flow file, imported from their own
module (not installed here: the compiler never imports it), defined in the class
body, with arguments the compiler cannot evaluate, on the flow class and on steps,
below and above @step, and even named like ours (tenacity's retry)."""

import functools
import logging

from metaflow import FlowSpec, Parameter, batch, step
from mylib.tracing import traced
from tenacity import retry, stop_after_attempt

import mylib

LOG = logging.getLogger(__name__)


def timed(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


def labelled(label, logger=LOG):
    return lambda func: func


def registered(cls):
    return cls


@registered
class UserDecoratorFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)

    def audited(func):
        return func

    @step
    @timed
    def start(self):
        self.next(self.train)

    @batch(cpu=2)
    @timed
    @step
    @labelled("train", logger=LOG)
    @traced
    def train(self):
        self.next(self.evaluate)

    @step
    @retry(stop=stop_after_attempt(3))
    @mylib.profile(sample_rate=0.1)
    @audited
    def evaluate(self):
        self.next(self.end)

    @step
    def end(self):
        pass
