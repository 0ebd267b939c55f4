"""Source positions of libcst nodes, computed in one cheap code-generation pass.

libcst's ``PositionProvider`` does the same walk but builds a ``CodeRange``
for every node through a context manager per statement, and the metadata
wrapper adds a whole visitor pass on top: together most of the front end's
time on a large flow. Here the codegen hooks keep plain ``(line, col)``
tuples, and only for nodes that can carry a diagnostic or a span (not
whitespace, commas, parentheses and other trivia).

Ranges are "whitespace inclusive" in libcst's sense: a node's start is where
its first token is, which is the same as the syntactic start for every node
the front end asks about (names, attributes, calls, arguments' values,
decorator expressions); a few nodes that own trailing whitespace or a comma
(``Arg``) end a little later. ``positions(module)`` falls back to libcst's
provider if this ever fails.
"""

from __future__ import annotations

import re
from contextlib import nullcontext

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")
_NULL = nullcontext()
_SKIP = (cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline, cst.Comment,
         cst.Comma, cst.Dot, cst.LeftSquareBracket, cst.RightSquareBracket,
         cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Colon, cst.AssignEqual, cst.BaseBinaryOp,
         cst.BaseUnaryOp, cst.BaseAugOp, cst.BaseCompOp, cst.BaseBooleanOp, cst.AssignTarget, cst.Semicolon,
         cst.IndentedBlock, cst.SimpleStatementSuite, cst.Else, cst.ParenthesizedWhitespace)


# What after_codegen does with a node, by its type (isinstance against libcst's abstract
# classes is slow, and this runs once per node: ~60,000 nodes in a 2,000-step flow).
_TRIVIA, _PAREN, _PARENTHESIZABLE, _PLAIN = "trivia", "paren", "parenthesizable", "plain"
_KINDS: dict[type, str] = {}


def _kind(node_type: type) -> str:
    if issubclass(node_type, _SKIP):
        return _TRIVIA
    if issubclass(node_type, (cst.LeftParen, cst.RightParen)):
        return _PAREN
    if "lpar" in getattr(node_type, "__dataclass_fields__", {}):
        return _PARENTHESIZABLE
    return _PLAIN


class _State(CodegenState):
    def __init__(self, module: cst.Module):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.column = 0
        self.stack: list[tuple[int, int]] = []
        self.ranges: dict[cst.CSTNode, tuple[int, int, int, int]] = {}
        self.parens: dict[cst.CSTNode, tuple[int, int, int, int]] = {}

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.tokens.append(token)
            self.column += len(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if "\n" in value or "\r" in value:
            parts = _NEWLINE.split(value)
            self.line += len(parts) - 1
            self.column = len(parts[-1])
        else:
            self.column += len(value)

    def before_codegen(self, node) -> None:
        self.stack.append((self.line, self.column))

    def after_codegen(self, node) -> None:
        line, column = self.stack.pop()
        kind = _KINDS.get(type(node))
        if kind is None:
            kind = _KINDS[type(node)] = _kind(type(node))
        if kind is _TRIVIA:
            return
        if kind is _PAREN:
            self.parens[node] = (line, column, self.line, self.column)
            return
        lpar = node.lpar if kind is _PARENTHESIZABLE else None
        if lpar and isinstance(lpar, (list, tuple)):  # FunctionDef.lpar is the parameters' "("
            # Parenthesised: the node's own text starts after its last "(" and
            # ends before its first ")", as libcst's syntactic positions say.
            _, _, line, column = self.parens[lpar[-1]]
            end_line, end_column, _, _ = self.parens[node.rpar[0]]
            self.ranges[node] = (line, column, end_line, end_column)
        else:
            self.ranges[node] = (line, column, self.line, self.column)

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _NULL

    def pop_trailing_newline(self) -> None:
        pass


def positions_if_text(module: cst.Module, text: str) -> dict[cst.CSTNode, tuple[int, int, int, int]] | None:
    """The positions, if ``module`` prints back to exactly ``text`` (else None): for a
    tree assembled from pieces (``frontend.pieces``), whose positions are only right
    if it is the source, token for token."""
    try:
        state = _State(module)
        module._codegen(state)
    except Exception:
        return None
    tokens = state.tokens
    if not module.has_trailing_newline and tokens and tokens[-1] in ("\n", "\r\n", "\r"):
        tokens = tokens[:-1]  # what libcst's pop_trailing_newline drops
    return state.ranges if "".join(tokens) == text else None


def positions(module: cst.Module) -> dict[cst.CSTNode, tuple[int, int, int, int]]:
    """node → (line, col0, end_line, end_col0); lines 1-based, columns 0-based."""
    try:
        state = _State(module)
        module._codegen(state)
        return state.ranges
    except Exception:
        from libcst.metadata import MetadataWrapper, PositionProvider

        resolved = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        return {node: (r.start.line, r.start.column, r.end.line, r.end.column) for node, r in resolved.items()}
