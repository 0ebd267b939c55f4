"""DynamoDB task integrations on the side channel, and the S3 item reader's local bucket."""

from __future__ import annotations

import pytest

from sfncompile.executor import Interpreter, StatesError
from sfncompile.executor.services import (GET_ITEM, PUT_ITEM, UPDATE_ITEM, S3_GET_OBJECT, SideChannelService,
                                          s3_get_object)
from sfncompile_runtime.sidechannel import open_side_channel


@pytest.fixture
def service(tmp_path):
    channel = open_side_channel("sqlite://" + str(tmp_path / "sc.db"))
    yield SideChannelService(channel)
    channel.close()


def test_put_get_update_through_a_state_machine(service):
    definition = {"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": PUT_ITEM, "ResultPath": None, "Next": "Update",
                "Parameters": {"TableName": "t", "Item": {"pk": {"S.$": "$.key"}, "width": {"N": "3"}}}},
        "Update": {"Type": "Task", "Resource": UPDATE_ITEM, "ResultPath": None, "Next": "Get",
                   "Parameters": {"TableName": "t", "Key": {"pk": {"S.$": "$.key"}},
                                  "UpdateExpression": "SET #b = :b",
                                  "ExpressionAttributeNames": {"#b": "branch"},
                                  "ExpressionAttributeValues": {":b": {"S": "left"}}}},
        "Get": {"Type": "Task", "Resource": GET_ITEM, "ResultSelector": {"item.$": "$.Item"}, "ResultPath": "$.got",
                "Parameters": {"TableName": "t", "Key": {"pk": {"S.$": "$.key"}}}, "Next": "Choose"},
        "Choose": {"Type": "Choice", "Choices": [{"Variable": "$.got.item.branch.S", "StringEquals": "left",
                                                  "Next": "Left"}], "Default": "Other"},
        "Left": {"Type": "Succeed"}, "Other": {"Type": "Fail", "Error": "Other"},
    }}
    result = Interpreter(definition, service.handlers()).run({"key": "F/r/s/0"})
    assert result.succeeded, (result.error, result.cause)
    assert result.output["got"]["item"] == {"pk": {"S": "F/r/s/0"}, "width": {"N": "3"}, "branch": {"S": "left"}}


def test_get_of_a_missing_item_has_no_item_key(service):
    assert service.get_item({"TableName": "t", "Key": {"pk": {"S": "nothing"}}}, None) == {}
    with pytest.raises(StatesError, match="partition key 'pk'"):
        service.get_item({"TableName": "t", "Key": {"id": {"S": "x"}}}, None)


def test_local_bucket_reads_an_absolute_path(tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text("[0, 1, 2]")
    assert s3_get_object({"Bucket": "local", "Key": str(manifest)}, None) == b"[0, 1, 2]"
    with pytest.raises(StatesError, match="S3.NoSuchKey"):
        s3_get_object({"Bucket": "local", "Key": str(tmp_path / "missing.json")}, None)
    assert S3_GET_OBJECT == "arn:aws:states:::s3:getObject"
