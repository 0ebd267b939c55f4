"""Entry point: a click group whose commands are imported only when used.

Each command lives in its own module under ``sfncompile/cli/`` and exposes a
click command object; ``COMMANDS`` maps the command name to ``module:attr``.
Import time matters: ``sfncompile --help`` must not pull in libcst or the CDK.
"""

from __future__ import annotations

import importlib
import sys

import click

from ..diagnostics import UserError

COMMANDS = {
    "check": "sfncompile.cli.check:check",
    "graph": "sfncompile.cli.graph:graph",
    "compile": "sfncompile.cli.compile:compile_cmd",
    "cost": "sfncompile.cli.compile:cost",
    "run": "sfncompile.cli.run:run",
    "resume": "sfncompile.cli.run:resume",
    "synth": "sfncompile.cli.deploy:synth",
    "deploy": "sfncompile.cli.deploy:deploy",
    "trigger": "sfncompile.cli.operate:trigger",
    "runs": "sfncompile.cli.operate:runs",
    "status": "sfncompile.cli.operate:status",
    "logs": "sfncompile.cli.operate:logs",
    "terminate": "sfncompile.cli.operate:terminate",
    "delete": "sfncompile.cli.operate:delete",
    "card": "sfncompile.cli.card:card",
    "ui": "sfncompile.cli.ui:ui",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("sfncompile"):
                return _unavailable(name)
            raise
        return getattr(module, attr)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UserError as exc:
            _exit_with(exc)
        except ModuleNotFoundError as exc:
            # An optional part imported deep inside a command: name the extra that brings it.
            from ..extras import extra_for_module, missing_extra_error

            extra = extra_for_module(exc.name)
            if extra is None:
                raise
            _exit_with(missing_extra_error(ctx.invoked_subcommand or "", extra))


def _exit_with(exc: UserError):
    for diag in exc.diagnostics:
        click.echo(diag.format(), err=True)
    click.echo(f"error: {exc.message}", err=True)
    sys.exit(exc.exit_code)


def _unavailable(name):
    @click.command(name=name, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def cmd(args):
        raise UserError(f"'sfncompile {name}' is not available in this build")

    return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sfncompile")
def cli():
    """Compile Python flows to AWS Step Functions, run them locally, deploy them."""


# Metaflow's top-level options (``python flow.py [OPTIONS] run ...``) that select Metaflow's
# own services: their local values are what sfncompile does, so they are accepted and dropped.
_METAFLOW_TOP_LEVEL = {"--metadata", "--environment", "--event-logger", "--monitor", "--profile",
                       "--package-suffixes"}
_METAFLOW_TOP_LEVEL_FLAGS = {"--quiet", "--no-pylint", "--pylint", "--no-quiet"}
_DATASTORE_TYPES = {"local", "s3", "azure", "gs"}


def flow_file_main(path, args):
    """``python flow.py [Metaflow top-level options] COMMAND [OPTIONS]`` → ``sfncompile COMMAND flow.py ...``.

    ``--datastore-root R`` (or ``--datastore`` with a path) becomes the command's
    ``--datastore``; ``--datastore=local`` and the options above are accepted and dropped."""
    args = list(args)
    extra: list[str] = []
    while args and args[0].startswith("--"):
        option, eq, value = args.pop(0).partition("=")
        if option in _METAFLOW_TOP_LEVEL_FLAGS:
            continue
        if option in ("--config", "--config-value"):  # NAME VALUE: two words
            words = ([value] if eq else []) + args[:2 - bool(eq)]
            del args[:2 - bool(eq)]
            if len(words) != 2:
                click.echo(f"error: option {option} needs two values: NAME and a "
                           f"{'PATH' if option == '--config' else 'JSON value'}", err=True)
                return 2
            extra += [option, *words]
            continue
        if option in _METAFLOW_TOP_LEVEL or option in ("--datastore", "--datastore-root"):
            if not eq:
                if not args:
                    click.echo(f"error: option {option} needs a value", err=True)
                    return 2
                value = args.pop(0)
            if option == "--datastore-root" or (option == "--datastore" and value not in _DATASTORE_TYPES):
                extra += ["--datastore", value]
            continue
        click.echo(f"error: python {path}: option {option} is not one sfncompile takes before the command "
                   f"(accepted: {', '.join(sorted(_METAFLOW_TOP_LEVEL | _METAFLOW_TOP_LEVEL_FLAGS))}, "
                   "--datastore, --datastore-root, --config, --config-value)", err=True)
        return 2
    if not args:
        click.echo(f"usage: python {path} (run|check|graph|compile|resume|deploy|trigger) [OPTIONS]", err=True)
        return 2
    global _flow_file
    _flow_file = True  # the user's module is __main__: Python's own ending for it (see main)
    return main([args[0], path, *args[1:], *extra])


# Set by a command (``run``, ``resume``) once its work is done, when nothing but sfncompile's own
# code ran in this process: see ``_leave_now``. Not under ``python flow.py``, whose module (the
# user's ``__main__``, objects and all) ends as Python ends it.
_leave_without_teardown = False
_flow_file = False


def leave_without_teardown() -> None:
    global _leave_without_teardown
    _leave_without_teardown = True


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="sfncompile", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit as done:
        if _leave_without_teardown and not _flow_file and isinstance(done.code, (int, type(None))):
            _leave_now(done.code or 0)
        raise


def _leave_now(code: int):
    """End the process as ``sys.exit(code)`` would, minus the interpreter's teardown of every
    module and object (~15 ms of CPU, on the wall time of every run): non-daemon threads joined,
    atexit handlers run, the standard streams flushed, then ``os._exit``. Only what has
    finalizers to run needs the teardown; after a run, this process ran sfncompile's code alone
    (the flow's runs in tasks and in the launch's child process), which closes what it opens."""
    from sfncompile_runtime.processes import exit_without_teardown

    exit_without_teardown(code)


if __name__ == "__main__":
    main()
