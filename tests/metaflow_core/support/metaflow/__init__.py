"""``metaflow`` for the suite's helper processes: our runtime's API, never real Metaflow.

The upstream harness (formatter, ``metaflow_test``, the generated check files)
imports ``metaflow`` outside any task. With this folder on ``PYTHONPATH`` the
import lands here, and the runtime's own shim mechanism replaces this module
(and registers the ``metaflow.*`` submodules) exactly as it does inside a task.
"""

from sfncompile_runtime.context import install_shims

install_shims()
