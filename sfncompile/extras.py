"""Optional parts of sfncompile and the one line that says how to get them.

The CDK back end (``synth``, ``deploy``) needs the ``[cdk]`` extra (aws-cdk-lib,
constructs: ~460 MB) and Node.js, which jsii runs the CDK on. Without them the
command stops before doing anything, with the install line, not a traceback.
"""

from __future__ import annotations

import importlib.util
import shutil

from .diagnostics import UserError

# extra -> the modules it brings
EXTRAS: dict[str, tuple[str, ...]] = {"cdk": ("aws_cdk", "constructs", "jsii")}


def install_hint(extra: str) -> str:
    return f"pip install 'sfncompile[{extra}]'"


def extra_for_module(module: str | None) -> str | None:
    """The extra that brings ``module`` (a dotted name is fine), if any."""
    top = (module or "").split(".", 1)[0]
    return next((extra for extra, modules in EXTRAS.items() if top in modules), None)


def missing_extra_error(command: str, extra: str) -> UserError:
    return UserError(f"'sfncompile {command}' needs the [{extra}] extra, which is not installed: "
                     f"{install_hint(extra)}")


def require_cdk(command: str) -> None:
    """Raise a UserError unless the CDK can run here (the extra, and node on the PATH)."""
    if any(importlib.util.find_spec(module) is None for module in EXTRAS["cdk"]):
        raise missing_extra_error(command, "cdk")
    if shutil.which("node") is None:
        raise UserError(f"'sfncompile {command}' runs the AWS CDK, which needs Node.js: install node "
                        "(version 20 or later) and put it on the PATH")
