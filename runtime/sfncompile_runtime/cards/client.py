"""``get_cards(task_or_pathspec, id=, type=)``: a task's cards (Metaflow's container shape).

A resumed task that was cloned from its origin run shows the origin's cards
(``follow_resumed``), as Metaflow does. Card HTML is read only on ``Card.get()``.
"""

from __future__ import annotations

import json

from .exception import CardNotPresentException, IncorrectArgumentException, IncorrectPathspecException
from ..datastore import warn_unreadable
from .store import CardInfo, cards_prefix, data_key, list_cards


class Card:
    """One card: ``hash``, ``id``, ``type``, ``path``; ``get()`` its HTML, ``get_data()`` its refresh data."""

    def __init__(self, storage, info: CardInfo, origin_pathspec: str | None = None):
        self._storage = storage
        self._info = info
        self._html = None
        self.hash = info.hash
        self.type = info.type
        self.from_resumed = origin_pathspec is not None
        self.origin_pathspec = origin_pathspec

    @property
    def id(self) -> str | None:
        return self._info.id

    @property
    def path(self) -> str:
        return self._storage.url(self._info.key)

    @property
    def key(self) -> str:
        """The card's key in the datastore (relative to its root)."""
        return self._info.key

    def get(self) -> str:
        if self._html is None:
            data = self._read(self._info.key)
            self._html = "" if data is None else data.decode("utf-8", "replace")
        return self._html

    def get_data(self) -> dict | None:
        """The card's data JSON; None when absent or damaged (warned, naming it)."""
        key = data_key(self._info)
        data = self._read(key)
        if data is None:
            return None
        try:
            value = json.loads(data)
        except ValueError as exc:
            warn_unreadable(self._storage.url(key), f"not valid JSON ({exc})")
            return None
        return value

    def _read(self, key: str) -> bytes | None:
        try:
            return self._storage.get_bytes(key)
        except OSError as exc:  # a symlink or folder in its place (not followed), no permission
            warn_unreadable(self._storage.url(key), str(exc))
            return None

    def view(self) -> None:
        import os
        import tempfile
        import webbrowser

        handle, path = tempfile.mkstemp(suffix=".html")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(self.get())
        webbrowser.open("file://" + path)

    def _repr_html_(self) -> str:
        return self.get()

    def __str__(self) -> str:
        return f"<Card at '{self.path}'>"

    __repr__ = __str__


class CardContainer:
    """An immutable list of ``Card``s (index, ``len``, iterate)."""

    def __init__(self, cards: list[Card], origin_pathspec: str | None = None):
        self._cards = list(cards)
        self.from_resumed = origin_pathspec is not None
        self.origin_pathspec = origin_pathspec

    def __len__(self) -> int:
        return len(self._cards)

    def __iter__(self):
        return iter(self._cards)

    def __getitem__(self, index) -> Card:
        return self._cards[index]

    def _repr_html_(self) -> str:
        return "\n".join(card.get() for card in self._cards)

    def __repr__(self) -> str:
        return f"CardContainer({self._cards!r})"


def _as_task(task):
    from ..client import Task

    if isinstance(task, str):
        if len([p for p in task.split("/") if p]) != 4:
            raise IncorrectPathspecException(task)
        return Task(task, _namespace_check=False)
    if isinstance(task, Task):
        return task
    raise IncorrectArgumentException(type(task))


def card_location(task, follow_resumed: bool = True) -> tuple[object, str, str | None]:
    """(storage, cards prefix, origin pathspec or None) of a client Task."""
    record = getattr(task, "_record", None) or {}
    flow, run_id, step, task_id = task.pathspec.split("/")
    cloned = record.get("cloned_from") if follow_resumed else None
    storage = task._store.storage
    if cloned:
        # the origin's own id (a clone made before run-unique ids recorded none: it had the same)
        origin_task = str(cloned.get("task_id") or task_id)
        origin = f"{flow}/{cloned['run_id']}/{step}/{origin_task}"
        return storage, cards_prefix(flow, cloned["run_id"], step, origin_task, int(cloned.get("attempt") or 0)), origin
    return storage, cards_prefix(flow, run_id, step, task_id, task.current_attempt), None


def get_cards(task, id: str | None = None, type: str | None = None, follow_resumed: bool = True) -> CardContainer:
    """The cards of ``task`` (a client ``Task`` or a ``Flow/run/step/task`` pathspec),
    optionally only those of one ``id`` / ``type``. No card: ``CardNotPresentException``."""
    task = _as_task(task)
    storage, prefix, origin = card_location(task, follow_resumed)
    infos = list_cards(storage, prefix, card_type=type, card_id=id)
    if not infos:
        raise CardNotPresentException(task.pathspec, card_type=type, card_id=id)
    return CardContainer([Card(storage, info, origin) for info in infos], origin)
