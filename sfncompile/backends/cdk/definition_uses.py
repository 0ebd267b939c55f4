"""What a compiled state machine definition calls, so its role grants only that."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_KNOWN = {
    "arn:aws:states:::batch:submitJob.sync": "batch.sync",
    "arn:aws:states:::batch:submitJob": "batch",
    "arn:aws:states:::dynamodb:getItem": "dynamodb:GetItem",
    "arn:aws:states:::dynamodb:putItem": "dynamodb:PutItem",
    "arn:aws:states:::dynamodb:updateItem": "dynamodb:UpdateItem",
    "arn:aws:states:::dynamodb:deleteItem": "dynamodb:DeleteItem",
}


@dataclass
class DefinitionUses:
    batch_sync: bool = False
    batch: bool = False
    dynamodb_actions: set[str] = field(default_factory=set)
    s3_read: bool = False  # Distributed Map ItemReader
    s3_write: bool = False  # Distributed Map ResultWriter
    distributed_map: bool = False
    unknown: set[str] = field(default_factory=set)


def definition_uses(definition: dict[str, Any]) -> DefinitionUses:
    uses = DefinitionUses()
    _walk(definition, uses)
    return uses


def _resource(uses: DefinitionUses, arn: str) -> None:
    kind = _KNOWN.get(arn)
    if kind == "batch.sync":
        uses.batch_sync = True
    elif kind == "batch":
        uses.batch = True
    elif kind:
        uses.dynamodb_actions.add(kind)
    elif arn.startswith("arn:aws:states:::s3:getObject"):
        uses.s3_read = True
    elif arn.startswith("arn:aws:states:::s3:putObject"):
        uses.s3_write = True
    else:
        uses.unknown.add(arn)


def _walk(machine: dict[str, Any], uses: DefinitionUses) -> None:
    for state in machine.get("States", {}).values():
        if state.get("Type") == "Task" and "Resource" in state:
            _resource(uses, state["Resource"])
        for branch in state.get("Branches", []):
            _walk(branch, uses)
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                _walk(state[key], uses)
                if state[key].get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED":
                    uses.distributed_map = True
        if "ItemReader" in state:
            uses.s3_read = True
            uses.distributed_map = True
        if "ResultWriter" in state:
            uses.s3_write = True
