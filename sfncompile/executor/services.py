"""Local equivalents of the other service integrations our state machines use.

* ``arn:aws:states:::dynamodb:getItem`` / ``putItem`` / ``updateItem`` → the
  side channel (``sfncompile_runtime.sidechannel``: SQLite locally, DynamoDB
  with an S3 datastore), answering in DynamoDB's typed JSON;
* ``arn:aws:states:::s3:getObject`` (a Distributed Map's ``ItemReader``) →
  the datastore: bucket ``local`` means the key is an absolute local path,
  any other bucket is read from S3 with boto3.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from .errors import TASK_FAILED, StatesError
from .interpreter import TaskCall

GET_ITEM = "arn:aws:states:::dynamodb:getItem"
PUT_ITEM = "arn:aws:states:::dynamodb:putItem"
UPDATE_ITEM = "arn:aws:states:::dynamodb:updateItem"
S3_GET_OBJECT = "arn:aws:states:::s3:getObject"
BATCH_SUBMIT_SYNC = "arn:aws:states:::batch:submitJob.sync"
LOCAL_BUCKET = "local"


class SideChannelService:
    """DynamoDB task integrations served from one side-channel store."""

    def __init__(self, channel):
        self.channel = channel

    def get_item(self, parameters: Mapping[str, Any], call: TaskCall) -> dict:
        key = parameters.get("Key")
        if not isinstance(key, dict) or "pk" not in key:
            raise StatesError("DynamoDB.ValidationException",
                              "The provided key element does not match the schema (partition key 'pk')")
        item = self.channel.get_typed_item(key)
        return {} if item is None else {"Item": item}

    def put_item(self, parameters: Mapping[str, Any], call: TaskCall) -> dict:
        item = parameters.get("Item")
        if not isinstance(item, dict) or "pk" not in item:
            raise StatesError("DynamoDB.ValidationException", "One or more parameter values were invalid: missing the key pk")
        self.channel.put_typed_item(item)
        return {}

    def update_item(self, parameters: Mapping[str, Any], call: TaskCall) -> dict:
        """``SET a = :x, b = :y`` updates (the form our state machines would use)."""
        key = parameters.get("Key") or {}
        expression = parameters.get("UpdateExpression", "")
        values = parameters.get("ExpressionAttributeValues") or {}
        names = parameters.get("ExpressionAttributeNames") or {}
        match = re.fullmatch(r"\s*SET\s+(.*)", expression, re.IGNORECASE | re.DOTALL)
        if not match:
            raise StatesError("DynamoDB.ValidationException", f"Unsupported UpdateExpression locally: {expression!r}")
        item = dict(self.channel.get_typed_item(key) or {})
        item.update(key)
        for assignment in match.group(1).split(","):
            name, _, value = (part.strip() for part in assignment.partition("="))
            name = names.get(name, name)
            if value not in values:
                raise StatesError("DynamoDB.ValidationException", f"Unknown value placeholder {value!r}")
            item[name] = values[value]
        self.channel.put_typed_item(item)
        return {}

    def handlers(self) -> dict:
        return {GET_ITEM: self.get_item, PUT_ITEM: self.put_item, UPDATE_ITEM: self.update_item}


def s3_get_object(parameters: Mapping[str, Any], call: TaskCall) -> bytes:
    bucket, key = parameters.get("Bucket"), parameters.get("Key")
    if bucket == LOCAL_BUCKET:
        try:
            with open(key, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise StatesError("S3.NoSuchKey", f"{key}: {exc.strerror}") from None
    try:
        import boto3

        return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:  # boto3's errors carry the S3 error code in their text
        raise StatesError(TASK_FAILED, f"s3:getObject s3://{bucket}/{key}: {exc}") from None
