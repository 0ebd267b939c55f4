"""``sfncompile ui``: serve the read-only web UI over a datastore."""

from __future__ import annotations

import os

import click

from ..diagnostics import UserError


@click.command()
@click.option("--datastore", "root", default=None, metavar="ROOT",
              help="datastore root (a folder or s3://bucket/prefix); default: $SFNCOMPILE_DATASTORE, else ./.sfncompile")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (the default keeps the UI on this machine)")
@click.option("--port", default=8321, show_default=True, type=int, help="port (0: any free port)")
@click.option("--aws", "use_aws", is_flag=True,
              help="also show deployed flows' recent executions (calls Step Functions with your AWS settings)")
@click.option("--region", default=None, help="with --aws: AWS region")
@click.option("--endpoint-url", default=None, help="with --aws: AWS endpoint URL")
@click.option("--verbose", is_flag=True, help="log every request")
def ui(root, host, port, use_aws, region, endpoint_url, verbose):
    """Browse flows, runs, tasks, logs, artifacts and cards in a browser (read-only)."""
    from sfncompile_runtime import envnames

    from ..ui import deployed
    from ..ui.server import make_server

    root = root or os.environ.get(envnames.DATASTORE) or envnames.DEFAULT_DATASTORE
    if not root.startswith("s3://"):
        root = os.path.abspath(root)
        if not os.path.isdir(root):
            raise UserError(f"no datastore at {root}: run a flow first, or pass --datastore ROOT")
    if use_aws:
        from ..config import Config

        deployed.CONFIG = Config.load(flags={"region": region, "endpoint_url": endpoint_url, "datastore": None,
                                             "job_queue": None, "side_channel_table": None, "stack_prefix": None,
                                             "image": None})
    try:
        server = make_server(root, host, port, verbose=verbose)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    url = f"http://{host}:{server.server_address[1]}/"
    click.echo(f"sfncompile ui: {url} (datastore {root}; Ctrl-C stops)", err=True)
    click.echo(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
