"""The runner (``main``) calls ``context`` and ``exit_hooks``; neither imports the runner back."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["context", "exit_hooks", "codepackage", "failures"])
def test_no_module_the_runner_calls_imports_the_runner(module):
    code = (f"import sys, sfncompile_runtime.{module}; "
            "print('sfncompile_runtime.main' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
