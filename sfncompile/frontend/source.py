"""The flow file as text: bytes decoded and Python's own verdict on its syntax.

These run before libcst sees the source: ``decode`` names the undecodable byte,
and ``compile()`` gives Python's exact syntax-error messages and positions
(libcst's own are vaguer), so a file that Python rejects is reported as Python
would and never reaches the readers of the flow.
"""

from __future__ import annotations

import io
import tokenize
import warnings

from ..diagnostics import Diagnostic
from ..ir import Span
from . import rules


def decode(data: bytes | str, file: str) -> tuple[str | None, list[Diagnostic]]:
    if isinstance(data, str):
        return data, []
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return None, [Diagnostic(rules.UNREADABLE, f"cannot read the source: {exc}; save the file as UTF-8",
                                 Span(file, 1, 1))]
    try:
        return data.decode(encoding), []
    except (UnicodeDecodeError, LookupError) as exc:
        start = getattr(exc, "start", 0)
        line = data[:start].count(b"\n") + 1
        col = start - (data.rfind(b"\n", 0, start) + 1) + 1
        return None, [Diagnostic(rules.UNREADABLE,
                                 f"the file is not valid {encoding} text ({exc.reason if hasattr(exc, 'reason') else exc}); "
                                 "save it as UTF-8", Span(file, line, col))]


def python_syntax_errors(text: str, file: str) -> list[Diagnostic]:
    """Python's own verdict: a SyntaxError (or null byte) as a positioned diagnostic."""
    index = text.find("\0")
    if index >= 0:
        line = text.count("\n", 0, index) + 1
        col = index - (text.rfind("\n", 0, index) + 1) + 1
        return [Diagnostic(rules.SYNTAX, "Python syntax error: the source contains a null byte; remove it",
                           Span(file, line, col))]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # A full compile (not just the AST) also catches what the compiler
            # rejects after parsing: ``return`` outside a function and the like.
            compile(text, file, "exec", dont_inherit=True)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = exc.offset or 1
        msg = exc.msg or "invalid syntax"
        end_line = getattr(exc, "end_lineno", None) or 0
        end_col = getattr(exc, "end_offset", None) or 0
        return [Diagnostic(rules.SYNTAX, f"Python syntax error: {msg}; fix the syntax",
                           Span(file, line, max(col, 1), end_line, end_col))]
    except ValueError as exc:
        return [Diagnostic(rules.SYNTAX, f"Python syntax error: {exc}", Span(file, 1, 1))]
    except (RecursionError, MemoryError):
        return [Diagnostic(rules.SYNTAX, "the source is too deeply nested for Python to compile; simplify it",
                           Span(file, 1, 1))]
    return []
