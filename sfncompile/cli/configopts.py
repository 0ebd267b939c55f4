"""Metaflow's ``--config NAME PATH`` and ``--config-value NAME JSON`` on the commands that compile a flow.

Metaflow takes them before the command (``python flow.py --config cfg cfg.json run``);
ours are options of the command (``sfncompile run flow.py --config cfg cfg.json``), and
``python flow.py --config ... run`` is forwarded to them. Each is repeatable; given on the
command line, an option replaces its environment variable (``METAFLOW_FLOW_CONFIG`` /
``METAFLOW_FLOW_CONFIG_VALUE``) entirely, as click's ``envvar`` does for Metaflow. The front
end resolves them (``frontend.configs``); they travel to it through ``CLI_OPTIONS`` (``frontend.launch_options``) for the
duration of the command, so a compile in a child process (``deploy``'s CDK app) sees them too.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os

import click

from ..diagnostics import UserError
from ..frontend.launch_options import CLI_OPTIONS


def config_options(func=None, *, refuse: str | None = None):
    """Add ``--config``/``--config-value`` to a click command. With ``refuse`` (a command name),
    the options exist but are refused as Metaflow refuses them there (``resume``)."""

    def apply(command):
        @functools.wraps(command)
        def run(*args, config_files=(), config_values=(), **kwargs):
            if refuse and (config_files or config_values):
                raise UserError(f"cannot specify --config or --config-value with '{refuse}' (Metaflow refuses "
                                "it too: the run keeps its origin's configs)")
            with launch_configs(config_files, config_values):
                return command(*args, **kwargs)

        run = click.option("--config-value", "config_values", nargs=2, multiple=True, metavar="NAME JSON",
                           help="the value of config NAME, as JSON (repeatable; replaces "
                                "METAFLOW_FLOW_CONFIG_VALUE)")(run)
        run = click.option("--config", "config_files", nargs=2, multiple=True, metavar="NAME PATH",
                           help="read config NAME from the file PATH (repeatable; replaces "
                                "METAFLOW_FLOW_CONFIG)")(run)
        return run

    return apply(func) if func is not None else apply


@contextlib.contextmanager
def launch_configs(config_files=(), config_values=()):
    """``CLI_OPTIONS`` set for the duration (file paths made absolute), then restored. Set even when
    none is given, so that a value inherited from a parent ``sfncompile`` process does not apply."""
    for name, _ in list(config_files) + list(config_values):
        if not name:
            raise UserError("--config/--config-value: the config NAME is empty")
    text = json.dumps({"config": [[name, os.path.abspath(path)] for name, path in config_files],
                       "config_value": [[name, value] for name, value in config_values]})
    with _cli_options(text):
        yield


@contextlib.contextmanager
def origin_configs(values: dict):
    """``CLI_OPTIONS`` with ``values`` (name → value) as the configs' resolved values for the
    duration: a resume compiles with its origin run's configs, whatever files, variables and
    functions give now (Metaflow's resume does the same)."""
    saved = os.environ.get(CLI_OPTIONS)
    options = json.loads(saved) if saved else {}
    options["resolved"] = values
    with _cli_options(json.dumps(options)):
        yield


@contextlib.contextmanager
def _cli_options(text: str):
    """``CLI_OPTIONS`` set to ``text`` for the duration, then restored (or removed)."""
    saved = os.environ.get(CLI_OPTIONS)
    os.environ[CLI_OPTIONS] = text
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(CLI_OPTIONS, None)
        else:
            os.environ[CLI_OPTIONS] = saved
