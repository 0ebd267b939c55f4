"""Graph renderers: exact output for a flow with every kind of edge; deterministic."""

from __future__ import annotations

import json
import textwrap

import pytest

from sfncompile.backends.graph import FORMATS, render, render_dot, render_mermaid, render_text
from sfncompile.frontend import parse_source
from sfncompile.ir import FlowGraph

SOURCE = textwrap.dedent('''
    from sfncompile import FlowSpec, Parameter, retry, schedule, step

    @schedule(daily=True)
    class PictureFlow(FlowSpec):
        size = Parameter("size", default=3)

        @step
        def start(self):
            self.next({"big": self.fan, "small": self.one}, condition="mode")

        @step
        def fan(self):
            self.next(self.each, foreach="items")

        @retry(times=2)
        @step
        def each(self):
            self.next(self.gather)

        @step
        def gather(self, inputs):
            self.next(self.done)

        @step
        def one(self):
            self.next(self.done)

        @step
        def done(self):
            self.next({"again": self.start, "stop": self.end}, condition="verdict")

        @step
        def end(self):
            pass
''').lstrip()


@pytest.fixture(scope="module")
def graph() -> FlowGraph:
    g, diagnostics = parse_source(SOURCE, "picture.py")
    assert diagnostics == []
    return g


def test_text(graph):
    assert render_text(graph) == textwrap.dedent("""\
        PictureFlow (7 steps)
        parameters: size:int
        flow decorators: @schedule
          start   switch  -> fan [big], one [small]  (on mode; in loop)
          fan     foreach -> each [foreach items]  (joined by gather; in loop)
          each    linear  -> gather  (in loop; @retry)
          gather  join    -> done  (in loop)
          one     linear  -> done  (in loop)
          done    switch  -> start [again], end [stop]  (on verdict; in loop)
          end     end
        """)


def test_mermaid(graph):
    assert render_mermaid(graph) == textwrap.dedent("""\
        flowchart TD
            step_start{{"start<br/><small>switch</small>"}}
            step_fan[/"fan<br/><small>foreach</small>"\\]
            step_each["each<br/><small>linear</small>"]
            step_gather[\\"gather<br/><small>join</small>"/]
            step_one["one<br/><small>linear</small>"]
            step_done{{"done<br/><small>switch</small>"}}
            step_end(["end<br/><small>end</small>"])
            step_start -->|"big"| step_fan
            step_start -->|"small"| step_one
            step_fan -->|"foreach items"| step_each
            step_each --> step_gather
            step_gather --> step_done
            step_one --> step_done
            step_done -->|"again"| step_start
            step_done -->|"stop"| step_end
        """)


def test_dot(graph):
    text = render_dot(graph)
    lines = text.splitlines()
    assert lines[0] == 'digraph "PictureFlow" {' and lines[-1] == "}"
    assert '    "start" [label="start\\nswitch", shape=hexagon];' in lines
    assert '    "fan" -> "each" [label="foreach items"];' in lines
    assert '    "done" -> "start" [label="again"];' in lines
    assert '    "each" -> "gather";' in lines
    assert sum(1 for line in lines if "->" in line) == 8


def test_dot_escapes_quotes():
    g, _ = parse_source(SOURCE.replace('"big"', "'say \"hi\"'"), "picture.py")
    assert '[label="say \\"hi\\""]' in render_dot(g)
    assert "#quot;" in render_mermaid(g)


def test_json_is_the_ir(graph):
    data = json.loads(render(graph, "json"))
    assert data == graph.to_dict()
    assert FlowGraph.from_dict(data).to_dict() == graph.to_dict()


@pytest.mark.parametrize("fmt", FORMATS)
def test_deterministic(graph, fmt):
    again, _ = parse_source(SOURCE, "picture.py")
    assert render(graph, fmt) == render(again, fmt)


def test_unknown_format(graph):
    with pytest.raises(ValueError):
        render(graph, "png")
