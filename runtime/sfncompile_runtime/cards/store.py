"""Where cards live: ``<attempt>/cards/<type>[-<id>]-<hash>.html`` beside the task's
record, and ``.data.json`` beside each card for ``current.card.refresh`` data.

Cards are written after the attempt's record (a card never delays or fails the
commit); the attempt is the task's own, so a retried task's cards belong to the
attempt that rendered them, and a resumed (cloned) task reads its origin's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..datastore import attempt_prefix

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_]+$")  # card types and ids (they are parts of a file name)
HTML, DATA = ".html", ".data.json"


@dataclass(frozen=True)
class CardInfo:
    type: str
    hash: str
    id: str | None
    filename: str
    key: str  # datastore key of the HTML


def cards_prefix(flow: str, run_id: str, step: str, task_id: str, attempt: int) -> str:
    return f"{attempt_prefix(flow, run_id, step, task_id, attempt)}/cards"


def file_stem(card_type: str, card_hash: str, card_id: str | None) -> str:
    return f"{card_type}-{card_id}-{card_hash}" if card_id else f"{card_type}-{card_hash}"


def save_card(storage, prefix: str, card_type: str, card_hash: str, html: str, card_id: str | None = None) -> str:
    key = f"{prefix}/{file_stem(card_type, card_hash, card_id)}{HTML}"
    storage.put_bytes(key, html.encode("utf-8"))
    return key


def save_data(storage, prefix: str, card_type: str, card_hash: str, data: dict, card_id: str | None = None) -> str:
    key = f"{prefix}/{file_stem(card_type, card_hash, card_id)}{DATA}"
    storage.put_bytes(key, json.dumps(data, default=str).encode("utf-8"))
    return key


def info_from_name(prefix: str, filename: str) -> CardInfo | None:
    if not filename.endswith(HTML):
        return None
    parts = filename[: -len(HTML)].split("-")
    if len(parts) == 2:
        card_type, card_hash = parts
        card_id = None
    elif len(parts) == 3:
        card_type, card_id, card_hash = parts
    else:
        return None
    return CardInfo(card_type, card_hash, card_id, filename, f"{prefix}/{filename}")


def list_cards(storage, prefix: str, card_type: str | None = None, card_id: str | None = None,
               card_hash: str | None = None) -> list[CardInfo]:
    found = []
    for name in storage.list_children(prefix):
        info = info_from_name(prefix, name)
        if info is None:
            continue
        if card_type is not None and info.type != card_type:
            continue
        if card_id is not None and info.id != card_id:
            continue
        if card_hash is not None and not info.hash.startswith(card_hash):
            continue
        found.append(info)
    return found


def data_key(info: CardInfo) -> str:
    return info.key[: -len(HTML)] + DATA
