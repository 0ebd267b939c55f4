"""SFN148: a card type is accepted when built in or defined next to the flow."""

from __future__ import annotations

import textwrap

from .conftest import errors_of, parse

FLOW = textwrap.dedent('''
    from metaflow import FlowSpec, card, step
    import mycards


    class CardFlow(FlowSpec):
        @card(type="my_own_card")
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
''')

CARD_MODULE = textwrap.dedent('''
    from metaflow.cards import MetaflowCard


    class MyOwnCard(MetaflowCard):
        type = "my_own_card"

        def render(self, task):
            return "<html></html>"
''')


def test_a_card_type_defined_next_to_the_flow_is_accepted(tmp_path):
    (tmp_path / "mycards.py").write_text(CARD_MODULE)
    flow = tmp_path / "card_flow.py"
    flow.write_text(FLOW)
    _, diagnostics = parse(flow)
    assert not any(d.rule == "SFN148" for d in diagnostics), [d.format() for d in diagnostics]


def test_an_unknown_card_type_is_refused_at_its_decorator(tmp_path):
    flow = tmp_path / "card_flow.py"
    flow.write_text(FLOW)
    _, diagnostics = parse(flow)
    assert ("SFN148", 7) in errors_of(diagnostics)
    (message,) = [d.message for d in diagnostics if d.rule == "SFN148"]
    assert "my_own_card" in message and "extension" in message
