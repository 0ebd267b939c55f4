"""Parse a large flow file with libcst piece by piece, so the front end scales linearly.

libcst's native parser slows down super-linearly with the size of one parse
call: measured on this project's machine, a 10-line step-sized function costs
~1.5 ms parsed on its own, but 5 ms each when 125 of them are parsed as one
module and 15 ms each when 2,000 are (a 2,000-step flow: 20+ s). So a big
file is parsed one top-level statement at a time, and a big class (the flow)
one body statement at a time (each wrapped in ``class _:`` so it keeps its
indentation), and the pieces are assembled into one ``Module``.

Where the pieces start and end comes from Python's own ``ast`` (C, linear;
the source already compiled). The assembled tree must print back to exactly
the source text: that is checked on the code-generation pass that computes
the positions anyway, and anything else (a piece libcst rejects, a different
default indentation, a mismatch) falls back to one whole-module parse, which
is always right. Small files are parsed whole.
"""

from __future__ import annotations

import ast
import re
import libcst as cst

from .positions import positions, positions_if_text

# Below this many lines one parse is cheap enough; above it, pieces.
PIECES_FROM_LINES = 400
# A class with more body statements than this is parsed statement by statement.
CLASS_PIECES_FROM = 16
_LINE_END = re.compile(r"\r\n?|\n")
_WRAPPER = "class _:\n"

Positions = dict


def parse_with_positions(text: str) -> tuple[cst.Module, Positions]:
    """``(module, node → (line, col0, end_line, end_col0))``; raises libcst's
    ``ParserSyntaxError`` as ``cst.parse_module(text)`` would."""
    if text.count("\n") >= PIECES_FROM_LINES:
        try:
            assembled = _assemble(text)
        except (cst.ParserSyntaxError, SyntaxError, ValueError, RecursionError, _Unsplittable):
            assembled = None
        if assembled is not None:
            found = positions_if_text(assembled, text)
            if found is not None:
                return assembled, found
    module = cst.parse_module(text)
    return module, positions(module)


class _Unsplittable(Exception):
    pass


def _line_starts(text: str) -> list[int]:
    """Offset of the start of each line (1-based line n starts at ``starts[n - 1]``),
    lines ending as Python's tokenizer ends them (\\n, \\r\\n, \\r), plus the end."""
    starts = [0]
    starts.extend(match.end() for match in _LINE_END.finditer(text))
    if starts[-1] != len(text):
        starts.append(len(text))
    return starts


def _groups(statements: list[ast.stmt]) -> list[tuple[int, int]]:
    """(first line, last line) of each run of statements that share no line;
    a definition's first line is its first decorator's."""
    groups: list[list[int]] = []
    for node in statements:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
        last = node.end_lineno or node.lineno
        if groups and first <= groups[-1][1]:
            groups[-1][1] = max(groups[-1][1], last)
        else:
            groups.append([first, last])
    return [(a, b) for a, b in groups]


def _assemble(text: str) -> cst.Module | None:
    tree = ast.parse(text)
    if not tree.body:
        return None
    starts = _line_starts(text)

    def lines(first: int, last: int) -> str:  # 1-based, inclusive
        return text[starts[first - 1]:starts[min(last, len(starts) - 1)]]

    groups = _groups(tree.body)
    by_first_line = {}
    for node in tree.body:
        by_first_line.setdefault(min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())]), node)
    body: list[cst.BaseStatement] = []
    header: tuple = ()
    pending: list[cst.EmptyLine] = []
    default_indent = None
    previous_end = 0
    for index, (first, chunk_end) in enumerate(groups):
        node = by_first_line.get(first)
        if (isinstance(node, ast.ClassDef) and len(node.body) >= CLASS_PIECES_FROM
                and (node.end_lineno or 0) == chunk_end):
            statements, module = _class_in_pieces(node, previous_end + 1, chunk_end, lines)
        else:
            module = cst.parse_module(lines(previous_end + 1, chunk_end))
            statements = list(module.body)
        if default_indent is None and _has_block(statements):
            default_indent = module.default_indent
        elif _has_block(statements) and module.default_indent != default_indent:
            raise _Unsplittable("pieces disagree on the default indentation")
        if index == 0:
            header = module.header
        else:
            pending.extend(module.header)
        if statements and pending:
            statements[0] = statements[0].with_changes(leading_lines=[*pending, *statements[0].leading_lines])
            pending = []
        pending.extend(module.footer)
        body.extend(statements)
        previous_end = chunk_end
    # What follows the last statement (comments, blank lines) is the module's footer.
    has_trailing_newline = module.has_trailing_newline
    if previous_end < len(starts) - 1:
        trailing = cst.parse_module(lines(previous_end + 1, len(starts) - 1))
        if trailing.body:
            raise _Unsplittable("a statement after the last statement")
        pending.extend(trailing.header)
        pending.extend(trailing.footer)
        has_trailing_newline = trailing.has_trailing_newline
    first_line_end = _LINE_END.search(text)
    return cst.Module(
        body=body, header=header, footer=pending, encoding=module.encoding,
        default_indent=default_indent or module.default_indent,
        default_newline=first_line_end.group(0) if first_line_end else module.default_newline,
        has_trailing_newline=has_trailing_newline)


def _has_block(statements) -> bool:
    return any(isinstance(s, cst.BaseCompoundStatement) for s in statements)


def _class_in_pieces(node: ast.ClassDef, first: int, last: int, lines):
    """The class from its header + first body statement, then each further body
    statement parsed inside ``class _:`` and moved into the class's block."""
    groups = _groups(node.body)
    if len(groups) < 2 or groups[0][0] <= node.lineno:
        raise _Unsplittable("class body on its header line")
    shell_module = cst.parse_module(lines(first, groups[0][1]))
    (shell,) = shell_module.body
    if not isinstance(shell, cst.ClassDef) or not isinstance(shell.body, cst.IndentedBlock):
        raise _Unsplittable("not a class with an indented block")
    rest: list[cst.BaseStatement] = []
    previous_end = groups[0][1]
    for _, end in groups[1:]:
        wrapped = cst.parse_module(_WRAPPER + lines(previous_end + 1, end))
        (wrapper,) = wrapped.body
        block = wrapper.body
        if (not isinstance(block, cst.IndentedBlock) or block.footer or block.indent is not None
                or wrapped.footer or wrapped.default_indent != shell_module.default_indent):
            raise _Unsplittable("a class piece does not fit the class's block")
        rest.extend(block.body)
        previous_end = end
    shell = shell.with_changes(body=shell.body.with_changes(body=[*shell.body.body, *rest]))
    return [shell], shell_module
