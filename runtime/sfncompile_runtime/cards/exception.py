"""Card errors (Metaflow's names and headlines: the suite's CLI checker matches the headline).

They derive from the runtime's ``MetaflowException`` when it has one, and
``CardNotPresentException`` also from the runtime's own class of that name, so
``except`` clauses written against either module catch what ``get_cards`` raises.
"""

from __future__ import annotations

from .. import exceptions as _core

_BASE = getattr(_core, "MetaflowException", Exception)
_NOT_PRESENT = tuple(c for c in (getattr(_core, "CardNotPresentException", None),) if isinstance(c, type))


class CardException(_BASE):
    headline = "Card error"

    def __init__(self, msg: str = ""):
        self.message = msg
        super().__init__(f"{self.headline}: {msg}" if msg else self.headline)


class CardNotPresentException(CardException, *_NOT_PRESENT):
    """``get_cards`` found no card for the task (and the type/id/hash asked for)."""

    headline = "Card not found in datastore"

    def __init__(self, pathspec: str, card_hash=None, card_type=None, card_id=None):
        wanted = ", ".join(f"{k}={v}" for k, v in (("type", card_type), ("id", card_id), ("hash", card_hash)) if v)
        super().__init__(f"no card for task {pathspec}" + (f" with {wanted}" if wanted else ""))


class CardClassFoundException(CardException):
    headline = "MetaflowCard not found"

    def __init__(self, card_name: str):
        super().__init__(f"no card type '{card_name}' is defined (built-in: default, blank)")


class IncorrectCardArgsException(CardException):
    headline = "Incorrect arguments to @card decorator"

    def __init__(self, card_type: str, args):
        super().__init__(f"card type '{card_type}' does not take the options {args!r}")


class UnrenderableCardException(CardException):
    headline = "Unable to render @card"

    def __init__(self, card_type: str, args):
        super().__init__(f"card of type '{card_type}' with options {args!r} failed to render")


class IncorrectPathspecException(CardException):
    headline = "Pathspec is required of form `flowname/runid/stepname/taskid`"

    def __init__(self, pathspec: str):
        super().__init__(f"got {pathspec!r}")


class IncorrectArgumentException(CardException):
    headline = "`get_cards` function requires a `Task` object or pathspec as an argument"

    def __init__(self, obj_type):
        super().__init__(f"got {getattr(obj_type, '__name__', obj_type)}")


class TaskNotFoundException(CardException):
    headline = "Cannot resolve task for pathspec"

    def __init__(self, pathspec: str):
        super().__init__(str(pathspec))


class ComponentOverwriteNotSupportedException(CardException):
    headline = "Component overwrite is not supported"

    def __init__(self, component_id, card_id=None, card_type=None):
        super().__init__(f"component '{component_id}' already exists; use .update() instead")
