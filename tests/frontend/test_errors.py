"""Syntax errors, undecodable files and other unreadable input: diagnostics, never exceptions."""

from __future__ import annotations

from sfncompile.frontend import parse_source

from .helpers import rules_of


def test_syntax_error_position():
    source = "from sfncompile import FlowSpec, step\n\nclass F(FlowSpec):\n    @step\n    def start(self)\n        pass\n"
    graph, diagnostics = parse_source(source, "f.py")
    assert graph is None
    assert rules_of(diagnostics) == ["SFN001"]
    span = diagnostics[0].span
    assert (span.file, span.line, span.col) == ("f.py", 5, 20)
    assert "syntax" in diagnostics[0].message


def test_unclosed_bracket():
    graph, diagnostics = parse_source("x = [1,\n\ny = 2\n", "f.py")
    assert rules_of(diagnostics) == ["SFN001"]
    assert diagnostics[0].span.line == 1 and diagnostics[0].span.col == 5
    assert "never closed" in diagnostics[0].message


def test_indentation_error():
    _, diagnostics = parse_source("class F:\n    x = 1\n   y = 2\n", "f.py")
    assert rules_of(diagnostics) == ["SFN001"]
    assert diagnostics[0].span.line == 3


def test_compile_time_errors_beyond_the_grammar():
    _, diagnostics = parse_source("x = 1\nreturn x\n", "f.py")
    assert rules_of(diagnostics) == ["SFN001"] and diagnostics[0].span.line == 2


def test_null_byte():
    _, diagnostics = parse_source("x = 1\ny = \0\n", "f.py")
    assert rules_of(diagnostics) == ["SFN001"]
    assert diagnostics[0].span.line == 2


def test_not_utf8():
    _, diagnostics = parse_source(b"x = 1\ny = '\xff\xfe'\n", "f.py")
    assert rules_of(diagnostics) == ["SFN008"]
    assert diagnostics[0].span.line == 2 and diagnostics[0].span.col == 6


def test_coding_cookie_is_honoured():
    source = "# -*- coding: latin-1 -*-\nfrom sfncompile import FlowSpec, step\nclass F(FlowSpec):\n" \
             "    '''Caf\xe9.'''\n    @step\n    def start(self):\n        self.next(self.end)\n" \
             "    @step\n    def end(self):\n        pass\n"
    graph, diagnostics = parse_source(source.encode("latin-1"), "f.py")
    assert diagnostics == []
    assert graph.docstring == "Caf\xe9."


def test_empty_and_whitespace_sources():
    for source in ("", "\n\n", b"", "   \n"):
        graph, diagnostics = parse_source(source, "f.py")
        assert graph is None and rules_of(diagnostics) == ["SFN002"]


def test_deep_nesting_is_a_diagnostic():
    source = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    graph, diagnostics = parse_source(source, "f.py")
    assert graph is None and len(diagnostics) == 1


def test_expression_too_deep_for_the_parser_is_a_diagnostic():
    source = "X = " + "+".join(["1"] * 1000) + "\n"
    graph, diagnostics = parse_source(source, "f.py")
    assert graph is None and rules_of(diagnostics) in (["SFN012"], ["SFN001"])


def test_bom_and_crlf_keep_positions():
    text = ("from sfncompile import FlowSpec, step\r\nclass F(FlowSpec):\r\n    @step\r\n    def start(self):\r\n"
            "        self.next(self.end)\r\n    @step\r\n    def end(self):\r\n        pass\r\n")
    graph, diagnostics = parse_source(b"\xef\xbb\xbf" + text.encode(), "f.py")
    assert diagnostics == []
    assert (graph["start"].span.line, graph["start"].span.col) == (4, 9)
    assert (graph["start"].transition.span.line, graph["start"].transition.span.col) == (5, 9)
