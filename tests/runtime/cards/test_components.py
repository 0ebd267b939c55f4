"""Card components render escaped, self-contained HTML; current.card picks the default
editable card by Metaflow's rules."""

from __future__ import annotations

import base64

import pytest

from sfncompile_runtime.cards import Artifact, Error, Image, Markdown, ProgressBar, Table, VegaChart
from sfncompile_runtime.cards.collector import CardComponentCollector, CardSpec
from sfncompile_runtime.cards.test_cards import TestStringComponent as StringComponent

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABRDE8UwAAAABJRU5ErkJggg==")


def test_markdown_is_rendered_and_escaped():
    html = Markdown("# Title\n\nsome **bold** and `<code>` [link](https://example.org) "
                    "[bad](javascript:alert(1))\n\n- a\n- <img src=x onerror=alert(1)>").render()
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert "<code>&lt;code&gt;</code>" in html and "href='https://example.org'" in html
    assert "javascript:" not in html.replace("[bad](javascript:alert(1))", "")
    assert "<img" not in html and "&lt;img" in html


def test_table_cells_image_and_progress():
    html = Table([["<i>x</i>", Image(PNG, label="l")]], headers=["<h>", "img"]).render()
    assert "&lt;i&gt;x&lt;/i&gt;" in html and "&lt;h&gt;" in html and "data:image/png;base64," in html
    assert "mf-error" in Image(b"not an image").render()
    bar = ProgressBar(max=10, value=3, label="epochs")
    bar.update(7)
    assert "value='7'" in bar.render()


def test_table_from_dataframe():
    pandas = pytest.importorskip("pandas")
    html = Table.from_dataframe(pandas.DataFrame({"a": [1, 2], "b": ["<x>", "y"]})).render()
    assert "<th>a</th>" in html and "&lt;x&gt;" in html


def test_image_from_pil_and_matplotlib():
    PIL = pytest.importorskip("PIL.Image")
    html = Image.from_pil_image(PIL.new("RGB", (4, 4), "red"), label="red").render()
    assert "data:image/png;base64," in html


def test_artifact_error_and_vega():
    assert "&lt;" in Artifact("<script>", name="s").render()
    long = Artifact("x" * 10000).render()
    assert "more characters" in long and len(long) < 5000
    try:
        raise ValueError("<boom>")
    except ValueError as exc:
        html = Error(exc, title="failed").render()
    assert "&lt;boom&gt;" in html and "Traceback" in html
    spec = {"mark": "line", "data": {"values": [{"x": 1, "y": 2}, {"x": 2, "y": 3}]},
            "encoding": {"x": {"field": "x"}, "y": {"field": "y"}}}
    assert "<polyline" in VegaChart(spec).render()
    assert "its spec" in VegaChart({"layer": []}).render()


def _collector(*specs):
    return CardComponentCollector([CardSpec(**s) for s in specs])


def test_default_editable_card_rules():
    # a single editable card is the default even with an id
    one = _collector({"type": "test_editable_card", "id": "xyz"})
    one.append(StringComponent("7"))
    assert one.manager(one.specs[0]).serialised() == ["7"]
    # several: the one without an id
    two = _collector({"type": "test_editable_card", "id": "abc"}, {"type": "test_editable_card"})
    two.append(StringComponent("8"))
    assert two.manager(two.specs[1]).serialised() == ["8"] and not two.manager(two.specs[0]).serialised()
    # customize=True wins
    three = _collector({"type": "test_editable_card", "customize": True}, {"type": "test_editable_card", "id": "a"},
                       {"type": "test_editable_card_2"})
    three.append(StringComponent("9"))
    assert three.manager(three.specs[0]).serialised() == ["9"]
    # ambiguous: append does nothing, [id] still works, an unknown id never raises
    none = _collector({"type": "test_editable_card", "id": "x"}, {"type": "test_editable_card", "id": "y"})
    none.append(StringComponent("1"))
    none["y"].append(StringComponent("2"))
    none["missing"].append(StringComponent("3"))
    assert [none.manager(s).serialised() for s in none.specs] == [[], ["2"]]
    # a non-editable type is reachable by id only; non-components are dropped
    fixed = _collector({"type": "test_non_editable_card", "id": "abc"})
    fixed.append(StringComponent("4"))
    fixed["abc"].append(StringComponent("5"))
    fixed["abc"].append("a plain string")
    assert fixed.manager(fixed.specs[0]).serialised() == ["5"]
