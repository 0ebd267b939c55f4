"""Intrinsic functions (``States.Format(...)`` and friends), parsed and evaluated.

Arguments are string literals in single quotes (``\\'``, ``\\{``, ``\\}``,
``\\\\`` escapes), numbers, ``true``/``false``/``null``, paths (``$.x``, ``$$.x``,
``$var``) and nested calls. Paths are resolved through the caller's
``resolve(text)`` so that the roots (input, context, variables) stay the
interpreter's business.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Any, Callable

from .errors import INTRINSIC_FAILURE, StatesError


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


@dataclass(frozen=True)
class PathArg:
    text: str


@dataclass(frozen=True)
class Literal:
    value: Any


def is_intrinsic(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("States.") and text.rstrip().endswith(")")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def fail(self, why: str):
        raise StatesError(INTRINSIC_FAILURE, f"Invalid intrinsic function '{self.text}': {why}")

    def ws(self):
        while self.pos < len(self.text) and self.text[self.pos] in " \t\n\r":
            self.pos += 1

    def call(self) -> Call:
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "._"):
            self.pos += 1
        name = self.text[start:self.pos]
        self.ws()
        if self.text[self.pos:self.pos + 1] != "(":
            self.fail("expected '('")
        self.pos += 1
        args = []
        self.ws()
        if self.text[self.pos:self.pos + 1] == ")":
            self.pos += 1
            return Call(name, ())
        while True:
            self.ws()
            args.append(self.argument())
            self.ws()
            ch = self.text[self.pos:self.pos + 1]
            self.pos += 1
            if ch == ")":
                return Call(name, tuple(args))
            if ch != ",":
                self.fail("expected ',' or ')'")

    def argument(self):
        text = self.text
        ch = text[self.pos:self.pos + 1]
        if ch == "'":
            return Literal(self.string())
        if ch == "$":
            return PathArg(self.path())
        if text.startswith("States.", self.pos):
            return self.call()
        start = self.pos
        while self.pos < len(text) and text[self.pos] not in ",) \t\n":
            self.pos += 1
        token = text[start:self.pos]
        try:
            return Literal(json.loads(token))
        except ValueError:
            self.fail(f"unexpected argument '{token}'")

    def string(self) -> str:
        self.pos += 1
        out = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == "\\" and self.pos + 1 < len(text):
                nxt = text[self.pos + 1]
                # Braces keep their backslash so States.Format can tell an
                # escaped brace from a placeholder.
                out.append(("\\" + nxt) if nxt in "{}" else nxt)
                self.pos += 2
                continue
            if ch == "'":
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        self.fail("unterminated string literal")

    def path(self) -> str:
        # A path argument runs to the next top-level ',' or ')'; brackets may hold either.
        start, depth, quote = self.pos, 0, None
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if quote:
                if ch == "\\":
                    self.pos += 1
                elif ch == quote:
                    quote = None
            elif ch in "'\"" and depth:
                quote = ch
            elif ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
            elif depth == 0 and ch in ",) ":
                break
            self.pos += 1
        return text[start:self.pos]


@functools.lru_cache(maxsize=2048)
def parse(text: str) -> Call:
    parser = _Parser(text.strip())
    call = parser.call()
    parser.ws()
    if parser.pos != len(parser.text):
        parser.fail("unexpected text after the call")
    return call


def evaluate(text: str, resolve: Callable[[str], Any]) -> Any:
    return _eval(parse(text), resolve)


def _eval(node, resolve):
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, PathArg):
        return resolve(node.text)
    func = FUNCTIONS.get(node.name)
    if func is None:
        raise StatesError(INTRINSIC_FAILURE, f"The intrinsic function '{node.name}' is not supported")
    args = [_eval(a, resolve) for a in node.args]
    try:
        return func(*args)
    except StatesError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError) as exc:
        raise StatesError(INTRINSIC_FAILURE, f"Invalid arguments in {node.name}: {exc}") from None


# ---------------------------------------------------------------- functions


def _fail(message: str):
    raise StatesError(INTRINSIC_FAILURE, message)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def to_java_string(value) -> str:
    """How AWS (Java) renders a value inside States.Format: maps as {k=v, ...}."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(to_java_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={to_java_string(v)}" for k, v in value.items()) + "}"
    return str(value)


def states_format(template, *args):
    if not isinstance(template, str):
        _fail("The first argument of States.Format must be a string")
    out, i, arg = [], 0, 0
    while i < len(template):
        ch = template[i]
        if ch == "\\" and i + 1 < len(template) and template[i + 1] in "{}\\":
            out.append(template[i + 1])
            i += 2
            continue
        if template.startswith("{}", i):
            if arg >= len(args):
                _fail("Number of arguments in States.Format does not match the number of placeholders")
            out.append(to_java_string(args[arg]))
            arg += 1
            i += 2
            continue
        out.append(ch)
        i += 1
    if arg != len(args):
        _fail("Number of arguments in States.Format does not match the number of placeholders")
    return "".join(out)


def string_to_json(text):
    if not isinstance(text, str):
        _fail("States.StringToJson needs a string")
    if not text.strip():
        return None
    return json.loads(text)


def json_dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_to_string(value):
    return json_dumps(value)


def array(*items):
    return list(items)


def array_partition(items, size):
    if not isinstance(items, list) or not _is_number(size) or size <= 0:
        _fail("States.ArrayPartition needs an array and a positive chunk size")
    size = int(size)
    return [items[i:i + size] for i in range(0, len(items), size)]


def _key(value):
    """Identity for equality the way JSON sees it: 1 and 1.0 and true differ."""
    return json.dumps(value, sort_keys=True) + "|" + type(value).__name__


def array_contains(items, value):
    if not isinstance(items, list):
        _fail("States.ArrayContains needs an array")
    key = _key(value)
    return any(_key(v) == key for v in items)


def array_range(start, end, step):
    if not all(_is_number(v) for v in (start, end, step)) or step == 0:
        _fail("States.ArrayRange needs numeric start, end and a non-zero step")
    start, end, step = int(start), int(end), int(step)
    out = list(range(start, end + (1 if step > 0 else -1), step))
    if len(out) > 1000:
        _fail("States.ArrayRange would produce more than 1000 items")
    return out


def array_get_item(items, index):
    if not isinstance(items, list) or not _is_number(index):
        _fail("States.ArrayGetItem needs an array and an index")
    index = int(index)
    if not 0 <= index < len(items):
        _fail(f"Index {index} is out of bounds for an array of length {len(items)}")
    return items[index]


def array_length(items):
    if not isinstance(items, list):
        _fail("States.ArrayLength needs an array")
    return len(items)


def array_unique(items):
    if not isinstance(items, list):
        _fail("States.ArrayUnique needs an array")
    seen, out = set(), []
    for v in items:
        k = _key(v)
        if k not in seen:
            seen.add(k)
            out.append(v)
    return out


def base64_encode(text):
    if not isinstance(text, str):
        _fail("States.Base64Encode needs a string")
    if len(text) > 10000:
        _fail("States.Base64Encode input exceeds 10,000 characters")
    import base64

    return base64.b64encode(text.encode()).decode()


def base64_decode(text):
    if not isinstance(text, str):
        _fail("States.Base64Decode needs a string")
    if len(text) > 10000:
        _fail("States.Base64Decode input exceeds 10,000 characters")
    import base64

    return base64.b64decode(text).decode()


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def states_hash(data, algorithm):
    if algorithm not in _HASHES:
        _fail(f"States.Hash: unsupported algorithm {algorithm!r}; use one of {', '.join(_HASHES)}")
    text = data if isinstance(data, str) else json_dumps(data)
    import hashlib

    return hashlib.new(_HASHES[algorithm], text.encode()).hexdigest()


def json_merge(first, second, deep):
    if not isinstance(first, dict) or not isinstance(second, dict):
        _fail("States.JsonMerge needs two objects")
    if deep is not False:
        _fail("States.JsonMerge supports only shallow merges (the third argument must be false)")
    merged = dict(first)
    merged.update(second)
    return merged


def math_random(start, end, seed=None):
    if not _is_number(start) or not _is_number(end):
        _fail("States.MathRandom needs numeric bounds")
    import random

    rng = random.Random(seed) if seed is not None else random
    return rng.randrange(int(start), int(end))


def _java_round(x) -> int:
    # Java's Math.round: half rounds up (towards positive infinity).
    return int(math.floor(x + 0.5)) if isinstance(x, float) else int(x)


def math_add(a, b):
    if not _is_number(a) or not _is_number(b):
        _fail("States.MathAdd needs two numbers")
    return _java_round(a) + _java_round(b)


def string_split(text, delimiters):
    if not isinstance(text, str) or not isinstance(delimiters, str):
        _fail("States.StringSplit needs two strings")
    # Every character of the second argument is a delimiter; empty pieces are dropped.
    out, current = [], []
    for ch in text:
        if ch in delimiters:
            if current:
                out.append("".join(current))
            current = []
        else:
            current.append(ch)
    if current:
        out.append("".join(current))
    return out


def states_uuid():
    import uuid

    return str(uuid.uuid4())


FUNCTIONS: dict[str, Callable] = {
    "States.Format": states_format,
    "States.StringToJson": string_to_json,
    "States.JsonToString": json_to_string,
    "States.Array": array,
    "States.ArrayPartition": array_partition,
    "States.ArrayContains": array_contains,
    "States.ArrayRange": array_range,
    "States.ArrayGetItem": array_get_item,
    "States.ArrayLength": array_length,
    "States.ArrayUnique": array_unique,
    "States.Base64Encode": base64_encode,
    "States.Base64Decode": base64_decode,
    "States.Hash": states_hash,
    "States.JsonMerge": json_merge,
    "States.MathRandom": math_random,
    "States.MathAdd": math_add,
    "States.StringSplit": string_split,
    "States.UUID": states_uuid,
}
