"""``sfncompile graph FLOW --format text|mermaid|dot|json``: the step graph.

The flow must be clean under ``check`` (errors are printed as ``check`` does
and the exit status is 1); the picture itself goes to standard output.
"""

from __future__ import annotations

import click

from .configopts import config_options

FORMATS = ("text", "mermaid", "dot", "json")


@click.command("graph")
@click.argument("flow_file", metavar="FLOW")
@click.option("--flow", "flow_name", default=None, metavar="NAME",
              help="The flow class to draw when the file defines several.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: steps and arrows; mermaid: flowchart TD; dot: Graphviz digraph; json: the IR.")
@config_options
def graph(flow_file: str, flow_name: str | None, fmt: str) -> None:
    """Print the step graph of FLOW."""
    from ..backends.graph import render
    from ..pipeline import load_graph

    flow_graph = load_graph(flow_file, flow_name)
    click.echo(render(flow_graph, fmt), nl=False)
