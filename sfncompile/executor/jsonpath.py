"""JSONPath as Step Functions evaluates it (Jayway JsonPath semantics).

A path starts at one of three roots: ``$`` (the state's input), ``$$`` (the
context object) or ``$name`` (a variable, set by ``Assign``). After the root:
``.name``, ``['name']``, ``[0]``, ``[-1]``, ``[1:5:2]``, ``[*]``, ``.*``,
``..name`` (recursive descent), unions ``[0,2]`` / ``['a','b']`` and filters
``[?(@.status == 0 && @.x)]``.

A *definite* path (no wildcard, slice, union, filter or descent) yields one
value and fails when nothing is there; an *indefinite* one yields the list of
everything it matched (possibly empty), as Jayway does.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import PathError

INPUT = "input"
CONTEXT = "context"
VARIABLE = "variable"

_MISSING = object()


@dataclass(frozen=True)
class Segment:
    kind: str  # field | index | slice | wild | names | indices | filter | descent
    value: Any = None


@dataclass(frozen=True)
class Path:
    text: str
    root: str  # INPUT, CONTEXT or VARIABLE
    variable: str | None
    segments: tuple[Segment, ...]

    @property
    def definite(self) -> bool:
        return all(s.kind in ("field", "index") for s in self.segments)

    def normalized(self, upto: int | None = None) -> str:
        """Jayway's rendering, used in AWS's error texts: ``$['a'][0]``."""
        out = ["$$" if self.root == CONTEXT else ("$" + (self.variable or ""))]
        for seg in self.segments[:upto]:
            out.append(_render(seg))
        return "".join(out)


def _render(seg: Segment) -> str:
    if seg.kind == "field":
        return f"['{seg.value}']"
    if seg.kind == "index":
        return f"[{seg.value}]"
    if seg.kind == "wild":
        return "[*]"
    if seg.kind == "slice":
        start, stop, step = seg.value
        text = f"{'' if start is None else start}:{'' if stop is None else stop}"
        return f"[{text}{'' if step is None else ':' + str(step)}]"
    if seg.kind == "names":
        return "[" + ",".join(f"'{n}'" for n in seg.value) + "]"
    if seg.kind == "indices":
        return "[" + ",".join(str(i) for i in seg.value) + "]"
    if seg.kind == "filter":
        return "[?]"
    if seg.kind == "descent":
        return ".." + _render(seg.value)
    return ""


_NAME_END = set(".[")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_path(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("$")


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Path:
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathError(f"Invalid path '{text}'")
    variable = None
    if text.startswith("$$"):
        root, pos = CONTEXT, 2
    else:
        match = _IDENT.match(text, 1)
        if match:
            root, variable, pos = VARIABLE, match.group(0), match.end()
        else:
            root, pos = INPUT, 1
    parser = _Parser(text, pos)
    segments = parser.segments()
    return Path(text, root, variable, tuple(segments))


class _Parser:
    def __init__(self, text: str, pos: int):
        self.text = text
        self.pos = pos

    def fail(self, why: str = ""):
        raise PathError(f"Invalid path '{self.text}'" + (f": {why}" if why else ""))

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos:self.pos + n]

    def segments(self) -> list[Segment]:
        out = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if text.startswith("..", self.pos):
                self.pos += 2
                if self.peek() == "[":
                    inner = self.bracket()
                elif self.peek() == "*":
                    self.pos += 1
                    inner = Segment("wild")
                else:
                    inner = Segment("field", self.name())
                out.append(Segment("descent", inner))
            elif ch == ".":
                self.pos += 1
                if self.peek() == "*":
                    self.pos += 1
                    out.append(Segment("wild"))
                else:
                    name = self.name()
                    if not name:
                        self.fail("empty property name")
                    out.append(Segment("field", name))
            elif ch == "[":
                out.append(self.bracket())
            else:
                self.fail(f"unexpected '{ch}'")
        return out

    def name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _NAME_END:
            self.pos += 1
        return self.text[start:self.pos]

    def skip_ws(self):
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def quoted(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            # Jayway keeps a backslash literally unless it escapes the delimiting quote.
            if ch == "\\" and self.text[self.pos + 1:self.pos + 2] in (quote, "\\"):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch == quote:
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        self.fail("unterminated string")

    def bracket(self) -> Segment:
        self.pos += 1  # [
        self.skip_ws()
        ch = self.peek()
        if ch == "?":
            end = self._matching_bracket()
            body = self.text[self.pos + 1:end].strip()
            if body.startswith("(") and body.endswith(")"):
                body = body[1:-1]
            self.pos = end + 1
            return Segment("filter", parse_filter(body, self.text))
        if ch == "*":
            self.pos += 1
            self.skip_ws()
            self.expect("]")
            return Segment("wild")
        if ch in ("'", '"'):
            names = []
            while True:
                self.skip_ws()
                if self.peek() not in ("'", '"'):
                    self.fail("expected a quoted name")
                names.append(self.quoted())
                self.skip_ws()
                if self.peek() == ",":
                    self.pos += 1
                    continue
                self.expect("]")
                break
            return Segment("field", names[0]) if len(names) == 1 else Segment("names", tuple(names))
        end = self.text.find("]", self.pos)
        if end < 0:
            self.fail("missing ']'")
        body = self.text[self.pos:end].strip()
        self.pos = end + 1
        try:
            if ":" in body:
                parts = [p.strip() for p in body.split(":")]
                if len(parts) > 3:
                    self.fail("bad slice")
                nums = [int(p) if p else None for p in parts] + [None] * (3 - len(parts))
                return Segment("slice", tuple(nums))
            if "," in body:
                return Segment("indices", tuple(int(p) for p in body.split(",")))
            return Segment("index", int(body))
        except ValueError:
            self.fail(f"bad index '{body}'")

    def expect(self, ch: str):
        if self.peek() != ch:
            self.fail(f"expected '{ch}'")
        self.pos += 1

    def _matching_bracket(self) -> int:
        depth, i, quote = 1, self.pos, None
        while i < len(self.text):
            c = self.text[i]
            if quote:
                if c == "\\":
                    i += 2
                    continue
                if c == quote:
                    quote = None
            elif c in ("'", '"'):
                quote = c
            elif c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
                if depth == 0:
                    return i
            i += 1
        self.fail("missing ']'")


# ---------------------------------------------------------------- filters

_FILTER_TOKEN = re.compile(
    r"\s*(?:(?P<op>==|!=|<=|>=|<|>|=~|&&|\|\||!|\(|\))"
    r"|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<regex>/(?:[^/\\]|\\.)*/[a-z]*)"
    r"|(?P<path>[@$][^\s=!<>&|()]*)"
    r"|(?P<word>true|false|null))"
)


def parse_filter(body: str, full: str):
    tokens = []
    pos = 0
    body = body.strip()
    while pos < len(body):
        m = _FILTER_TOKEN.match(body, pos)
        if not m or m.end() == pos:
            raise PathError(f"Invalid path '{full}': bad filter")
        pos = m.end()
        kind = m.lastgroup
        text = m.group(kind)
        if kind == "str":
            tokens.append(("lit", json.loads('"' + text[1:-1].replace('\\\'', "'").replace('"', '\\"') + '"')
                           if text[0] == "'" else json.loads(text)))
        elif kind == "num":
            tokens.append(("lit", json.loads(text)))
        elif kind == "word":
            tokens.append(("lit", json.loads(text)))
        elif kind == "regex":
            end = text.rfind("/")
            flags = re.I if "i" in text[end:] else 0
            tokens.append(("lit", re.compile(text[1:end], flags)))
        elif kind == "path":
            tokens.append(("path", text))
        else:
            tokens.append(("op", text))
    parser = _FilterParser(tokens, full)
    expr = parser.or_expr()
    if parser.i != len(tokens):
        raise PathError(f"Invalid path '{full}': bad filter")
    return expr


class _FilterParser:
    def __init__(self, tokens, full):
        self.tokens, self.i, self.full = tokens, 0, full

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def or_expr(self):
        left = self.and_expr()
        while self.peek() == ("op", "||"):
            self.take()
            left = ("or", left, self.and_expr())
        return left

    def and_expr(self):
        left = self.unary()
        while self.peek() == ("op", "&&"):
            self.take()
            left = ("and", left, self.unary())
        return left

    def unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            return ("not", self.unary())
        if self.peek() == ("op", "("):
            self.take()
            inner = self.or_expr()
            if self.take() != ("op", ")"):
                raise PathError(f"Invalid path '{self.full}': bad filter")
            return inner
        left = self.operand()
        kind, text = self.peek()
        if kind == "op" and text in ("==", "!=", "<", "<=", ">", ">=", "=~"):
            self.take()
            return ("cmp", text, left, self.operand())
        return ("exists", left)

    def operand(self):
        kind, value = self.take()
        if kind == "lit":
            return ("lit", value)
        if kind == "path":
            return ("path", value)
        raise PathError(f"Invalid path '{self.full}': bad filter")


def _operand_value(node, current, root):
    if node[0] == "lit":
        return node[1]
    text = node[1]
    base = current if text.startswith("@") else root
    sub = parse("$" + text[1:])
    try:
        return evaluate(sub, base)
    except PathError:
        return _MISSING


def _same_type_compare(op, a, b):
    if a is _MISSING or b is _MISSING:
        return op == "!=" and not (a is _MISSING and b is _MISSING)
    if op == "=~":
        return isinstance(a, str) and hasattr(b, "search") and b.fullmatch(a) is not None
    numeric = (isinstance(a, (int, float)) and not isinstance(a, bool)
               and isinstance(b, (int, float)) and not isinstance(b, bool))
    if op == "==":
        return a == b and (numeric or type(a) is type(b))
    if op == "!=":
        return not (a == b and (numeric or type(a) is type(b)))
    if not (numeric or (isinstance(a, str) and isinstance(b, str))):
        return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _filter_match(expr, current, root) -> bool:
    kind = expr[0]
    if kind == "or":
        return _filter_match(expr[1], current, root) or _filter_match(expr[2], current, root)
    if kind == "and":
        return _filter_match(expr[1], current, root) and _filter_match(expr[2], current, root)
    if kind == "not":
        return not _filter_match(expr[1], current, root)
    if kind == "exists":
        return _operand_value(expr[1], current, root) is not _MISSING
    _, op, left, right = expr
    return _same_type_compare(op, _operand_value(left, current, root), _operand_value(right, current, root))


# ---------------------------------------------------------------- evaluation


def _children(node) -> list:
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return list(node)
    return []


def _apply(seg: Segment, node, root, out: list):
    kind = seg.kind
    if kind == "field":
        if isinstance(node, dict) and seg.value in node:
            out.append(node[seg.value])
    elif kind == "index":
        if isinstance(node, list):
            i = seg.value
            if -len(node) <= i < len(node):
                out.append(node[i])
    elif kind == "wild":
        out.extend(_children(node))
    elif kind == "slice":
        if isinstance(node, list):
            start, stop, step = seg.value
            out.extend(node[slice(start, stop, step)])
    elif kind == "names":
        if isinstance(node, dict):
            out.extend(node[n] for n in seg.value if n in node)
    elif kind == "indices":
        if isinstance(node, list):
            out.extend(node[i] for i in seg.value if -len(node) <= i < len(node))
    elif kind == "filter":
        for child in (node if isinstance(node, list) else _children(node)):
            if _filter_match(seg.value, child, root):
                out.append(child)
    elif kind == "descent":
        stack = [node]
        while stack:
            current = stack.pop(0)
            _apply(seg.value, current, root, out)
            stack.extend(c for c in _children(current) if isinstance(c, (dict, list)))


def evaluate(path: Path, value: Any) -> Any:
    """Apply ``path``'s segments to ``value`` (the root it names, already chosen)."""
    if path.definite:
        node = value
        for i, seg in enumerate(path.segments):
            found: list = []
            _apply(seg, node, value, found)
            if not found:
                if i == len(path.segments) - 1:
                    raise PathError(f"No results for path: {path.normalized()}")
                raise PathError(f"Missing property in path {path.normalized(i + 1)}")
            node = found[0]
        return node
    nodes = [value]
    for seg in path.segments:
        nxt: list = []
        for node in nodes:
            _apply(seg, node, value, nxt)
        nodes = nxt
    return nodes


# ---------------------------------------------------------------- ResultPath


def set_reference(path: Path, target: Any, value: Any) -> Any:
    """Write ``value`` at reference path ``path`` inside ``target``, returning the new document.

    Only ``.name`` and ``[n]`` steps are allowed (a *reference path*); objects are
    created along the way as AWS does, and ``$`` replaces the whole document.
    """
    if not path.segments:
        return value
    if not path.definite:
        raise PathError(f"Invalid path '{path.text}': not a reference path")
    import copy

    doc = copy.deepcopy(target) if isinstance(target, (dict, list)) else {}
    node = doc
    for i, seg in enumerate(path.segments):
        last = i == len(path.segments) - 1
        if seg.kind == "field":
            if not isinstance(node, dict):
                raise PathError(f"Unable to apply ResultPath '{path.text}'")
            if last:
                node[seg.value] = value
            else:
                if not isinstance(node.get(seg.value), (dict, list)):
                    node[seg.value] = {}
                node = node[seg.value]
        else:
            if not isinstance(node, list) or not (-len(node) <= seg.value < len(node)):
                raise PathError(f"Unable to apply ResultPath '{path.text}'")
            if last:
                node[seg.value] = value
            else:
                node = node[seg.value]
    return doc
