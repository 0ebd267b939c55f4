"""How a task attempt fails, by whose fault: the runner's exit codes follow these.

Kept apart from ``main`` (the runner) so that the modules the runner calls —
``context``, ``exit_hooks`` — can raise them without importing the runner back.
"""

from __future__ import annotations


class SetupError(Exception):
    """The task cannot start (bad environment, missing parent output): exit 2."""


class StepFailure(Exception):
    """The step's own code (or its publication) failed: exit 1."""
