"""Static evaluation of decorator and parameter arguments, without running code.

What is evaluable (and what a ``NotStatic`` message lists as allowed):
literals (numbers, strings, implicitly concatenated strings, f-strings whose
placeholders are static, without conversions or format specs), ``True``/``False``/``None``, lists/tuples/sets/dicts of
evaluable values, unary ``-``/``+``/``not``/``~``, binary arithmetic
(``+ - * / // % **``) on numbers, string/list concatenation and repetition,
and *constants*: names assigned exactly once at module level (or in the flow
class body, for step decorators and parameters) to an evaluable expression; also ``json.dumps(<static value>)``, the usual
``JSONType`` default. Tuples and sets become JSON lists.

Anything else (calls, attribute access, subscripts, comprehensions, names
bound elsewhere) raises ``NotStatic`` carrying the offending node, so the
caller can report it at its exact position.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import libcst as cst

ALLOWED = (
    "literals, lists/tuples/dicts of literals, arithmetic (+ - * / // % **), "
    "string concatenation, True/False/None and module-level constants "
    "(names assigned once at module level or in the flow class body)"
)

# Guards so that evaluating hostile input stays cheap (``2 ** 10 ** 10``,
# ``"x" * 10 ** 9``): beyond these the value is refused, not computed.
MAX_SEQUENCE = 1_000_000
MAX_INT_BITS = 4096


def _is_config(value) -> bool:
    from .configs import ConfigDict

    return isinstance(value, ConfigDict)


class NotStatic(Exception):
    def __init__(self, node: cst.CSTNode, reason: str):
        super().__init__(reason)
        self.node = node
        self.reason = reason


class UnresolvedConfig(NotStatic):
    """A config whose value could not be read (its error is reported at its ``Config(...)``)."""


class Evaluator:
    """Evaluates expressions against module constants.

    ``constant`` resolves a name to its value or raises ``NotStatic``; it is
    given by the module scanner, which evaluates constants lazily (a constant
    may refer to earlier ones).
    """

    def __init__(self, constant: Callable[[cst.Name], Any], code_for: Callable[[cst.CSTNode], str],
                 call: Callable[[cst.Call], Any] | None = None):
        self._constant = constant
        self._code_for = code_for
        self._call = call

    def code(self, node: cst.CSTNode) -> str:
        return self._code_for(node)

    def __call__(self, node: cst.BaseExpression) -> Any:
        return self.eval(node)

    def eval(self, node: cst.CSTNode) -> Any:
        method = getattr(self, "_eval_" + type(node).__name__, None)
        if method is None:
            raise NotStatic(node, f"`{self._short(node)}` cannot be evaluated statically; allowed: {ALLOWED}")
        return method(node)

    def _short(self, node: cst.CSTNode) -> str:
        text = " ".join(self._code_for(node).split())
        return text if len(text) <= 60 else text[:57] + "..."

    # -- literals -----------------------------------------------------------
    def _eval_Integer(self, node: cst.Integer):
        try:
            return int(node.value, 0)
        except ValueError:
            raise NotStatic(node, f"`{node.value}` is not a valid integer literal") from None

    def _eval_Float(self, node: cst.Float):
        return _finite(node, float(node.value.replace("_", "")))

    def _eval_Imaginary(self, node):
        raise NotStatic(node, "complex numbers are not allowed here (they are not JSON values)")

    def _eval_SimpleString(self, node: cst.SimpleString):
        prefix = node.prefix.lower()
        if "b" in prefix:
            raise NotStatic(node, "bytes literals are not allowed here; use a str")
        return node.evaluated_value

    def _eval_ConcatenatedString(self, node: cst.ConcatenatedString):
        left = self.eval(node.left)
        right = self.eval(node.right)
        return left + right

    def _eval_FormattedString(self, node: cst.FormattedString):
        parts = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(_decode_text(part.value.replace("{{", "{").replace("}}", "}"), node.prefix))
            elif part.conversion is None and part.format_spec is None and part.equal is None:
                # ``f"{PREFIX}/bin"``: a placeholder holding a static value is fine.
                value = self.eval(part.expression)
                if isinstance(value, (list, dict)):
                    raise NotStatic(part, "an f-string placeholder must hold a string or a number here")
                parts.append(_format_scalar(value))
            else:
                raise NotStatic(part, f"f-string conversions and format specs cannot be evaluated statically; "
                                      f"allowed: {ALLOWED}")
        return "".join(parts)

    def _eval_Name(self, node: cst.Name):
        if node.value == "True":
            return True
        if node.value == "False":
            return False
        if node.value == "None":
            return None
        return self._constant(node)

    # -- config values (``cfg.a.b``, ``cfg["a"]``; see frontend.configs) ---------
    def _config_base(self, node, base_node):
        from .configs import ConfigDict

        generic = NotStatic(node, f"`{self._short(node)}` cannot be evaluated statically; allowed: {ALLOWED}")
        try:
            base = self.eval(base_node)
        except NotStatic as exc:
            if "config" in exc.reason.lower():
                raise
            raise generic from None
        if not isinstance(base, ConfigDict):
            raise generic
        return base

    def _eval_Attribute(self, node: cst.Attribute):
        base = self._config_base(node, node.value)
        key = node.attr.value
        if key not in base:
            raise NotStatic(node, f"`{self._short(node)}`: the config has no key '{key}' (keys: "
                                  f"{', '.join(map(str, base)) or 'none'})")
        return base[key]

    def _eval_Subscript(self, node: cst.Subscript):
        try:
            base = self.eval(node.value)
        except NotStatic:
            base = None
        if isinstance(base, (list, str, dict)) and not _is_config(base) and len(node.slice) == 1 \
                and isinstance(node.slice[0].slice, cst.Index):
            # ``VERSIONS["3"]``, ``SIZES[0]`` over static values: Python's own indexing.
            key = self.eval(node.slice[0].slice.value)
            try:
                return base[key]
            except (KeyError, IndexError, TypeError) as exc:
                raise NotStatic(node, f"`{self._short(node)}` fails: {type(exc).__name__}: {exc}") from None
        base = self._config_base(node, node.value)
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            raise NotStatic(node, f"`{self._short(node)}`: a config is read with one key, cfg[\"key\"]")
        key = self.eval(node.slice[0].slice.value)
        if key not in base:
            raise NotStatic(node, f"`{self._short(node)}`: the config has no key {key!r}")
        return base[key]

    # -- containers ---------------------------------------------------------
    def _elements(self, node) -> list:
        out = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                value = self.eval(element.value)
                if not isinstance(value, (list, tuple)):
                    raise NotStatic(element, "only a list or tuple can be unpacked with * here")
                out.extend(value)
            else:
                out.append(self.eval(element.value))
        return out

    def _eval_List(self, node: cst.List):
        return self._elements(node)

    def _eval_Tuple(self, node: cst.Tuple):
        return self._elements(node)

    def _eval_Set(self, node: cst.Set):
        values = self._elements(node)
        try:
            return sorted(set(values))
        except TypeError:
            raise NotStatic(node, "set elements must be hashable literals of one type") from None

    def _eval_Dict(self, node: cst.Dict):
        out = {}
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                value = self.eval(element.value)
                if not isinstance(value, dict):
                    raise NotStatic(element, "only a dict can be unpacked with ** here")
                out.update(value)
                continue
            key = self.eval(element.key)
            if not isinstance(key, str):
                raise NotStatic(element.key, "dict keys must be strings here (the value must be JSON)")
            out[key] = self.eval(element.value)
        return out

    # -- operators ------------------------------------------------------------
    def _eval_UnaryOperation(self, node: cst.UnaryOperation):
        value = self.eval(node.expression)
        op = node.operator
        if isinstance(op, cst.Not):
            return not value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise NotStatic(node, "unary - + ~ apply to numbers only")
        if isinstance(op, cst.Minus):
            return -value
        if isinstance(op, cst.Plus):
            return +value
        if isinstance(op, cst.BitInvert) and isinstance(value, int):
            return ~value
        raise NotStatic(node, "unsupported unary operator")

    def _eval_BinaryOperation(self, node: cst.BinaryOperation):
        return _finite(node, self._binary(node))

    def _binary(self, node: cst.BinaryOperation):
        left = self.eval(node.left)
        right = self.eval(node.right)
        op = node.operator
        numbers = _is_number(left) and _is_number(right)
        try:
            if isinstance(op, cst.Add):
                if numbers or (isinstance(left, str) and isinstance(right, str)) or (
                    isinstance(left, list) and isinstance(right, list)
                ):
                    if isinstance(left, (str, list)) and len(left) + len(right) > MAX_SEQUENCE:
                        raise NotStatic(node, "the value is too large")
                    return left + right
            elif isinstance(op, cst.Multiply):
                if numbers:
                    return left * right
                seq, count = (left, right) if isinstance(right, int) else (right, left)
                if isinstance(seq, (str, list)) and isinstance(count, int) and not isinstance(count, bool):
                    if len(seq) * max(count, 0) > MAX_SEQUENCE:
                        raise NotStatic(node, "the value is too large")
                    return seq * count
            elif numbers:
                if isinstance(op, cst.Subtract):
                    return left - right
                if isinstance(op, cst.Divide):
                    return left / right
                if isinstance(op, cst.FloorDivide):
                    return left // right
                if isinstance(op, cst.Modulo):
                    return left % right
                if isinstance(op, cst.Power):
                    return _power(node, left, right)
        except (ZeroDivisionError, OverflowError, ValueError) as exc:
            raise NotStatic(node, f"evaluating `{self._short(node)}` fails: {exc}") from None
        raise NotStatic(
            node,
            f"`{self._short(node)}` cannot be evaluated statically: only arithmetic on numbers "
            f"and concatenation/repetition of strings and lists are allowed",
        )

    def _eval_Call(self, node: cst.Call):
        # ``dict(key=value, ...)`` of static values is a dict literal by another
        # spelling (Metaflow's own examples write ``options=dict(timeout=20)``).
        if type(node.func) is cst.Name and node.func.value == "dict" and all(
                arg.keyword is not None and not arg.star for arg in node.args):
            return {arg.keyword.value: self.eval(arg.value) for arg in node.args}
        # The few pure calls the caller recognises (``json.dumps`` of a static
        # value, the usual JSONType default); any other call is not static.
        if self._call is not None:
            return self._call(node)
        raise NotStatic(node, f"`{self._short(node)}` cannot be evaluated statically; allowed: {ALLOWED}")

    def _eval_BooleanOperation(self, node):
        raise NotStatic(node, f"`and`/`or` cannot be evaluated statically; allowed: {ALLOWED}")


def _decode_text(text: str, prefix: str) -> str:
    """Escapes like ``\\n`` in an f-string's literal text, decoded as Python would."""
    if "\\" not in text or "r" in prefix.lower():
        return text
    try:
        return text.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return text


def _format_scalar(value) -> str:
    return str(value)


def _finite(node, value):
    if isinstance(value, float) and not math.isfinite(value):
        raise NotStatic(node, "the value is not a finite number")
    return value


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _power(node, base, exponent):
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        bits = max(abs(base), 1).bit_length() * exponent
        if bits > MAX_INT_BITS:
            raise NotStatic(node, "the value is too large")
    result = base ** exponent
    if isinstance(result, complex) or (isinstance(result, float) and not math.isfinite(result)):
        raise NotStatic(node, "the result is not a finite real number")
    return result


__all__ = ["ALLOWED", "Evaluator", "NotStatic"]
