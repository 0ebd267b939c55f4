"""Every emitted definition passes the npm asl-validator and moto's create_state_machine."""

from __future__ import annotations

import json

import pytest

from sfncompile.backends.asl import render, substitute, substitutions_needed

from .conftest import case_names

ROLE = "arn:aws:iam::123456789012:role/sfncompile-test"


@pytest.mark.parametrize("name", case_names())
def test_asl_validator_accepts(asl_validation, name):
    assert asl_validation[name] == "", asl_validation[name]


def test_asl_validator_rejects_a_broken_definition(tmp_path):
    """The batch runner really reports failures (a validator that passes everything proves nothing)."""
    from .conftest import run_asl_validator

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"StartAt": "a", "States": {"a": {"Type": "Pass", "Next": "missing"}}}))
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"StartAt": "a", "States": {"a": {"Type": "Pass", "End": True}}}))
    results = run_asl_validator([bad, good])
    assert results[str(good)] == ""
    assert results[str(bad)] != ""


def test_moto_accepts_every_definition(aws, compiled):
    import boto3

    client = boto3.client("stepfunctions", endpoint_url=aws.endpoint)
    for name, (_, definition) in compiled.items():
        # Placeholder text is legal JSON string content; AWS sees the
        # substituted form, so validate that one.
        filled = substitute(definition, {k: f"arn:aws:batch:us-east-1:123456789012:thing/{k}"
                                         for k in substitutions_needed(definition)})
        arn = client.create_state_machine(name=name.replace("_", "-")[:80], definition=render(filled),
                                          roleArn=ROLE)["stateMachineArn"]
        assert json.loads(client.describe_state_machine(stateMachineArn=arn)["definition"]) == filled


@pytest.mark.parametrize("name", case_names())
def test_moto_parser_accepts(compiled, name):
    """moto's create_state_machine stores any JSON; the ASL parser its interpreter
    runs (LocalStack's grammar) is the strict check: key typos, operators, BackoffRate."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    program, _ = AmazonStateLanguageParser.parse(render(compiled[name][1]))
    assert program.start_at.start_at_name == compiled[name][1]["StartAt"]


@pytest.mark.parametrize("rule", [
    {"Variable": "$.x", "StringEqualz": "1", "Next": "b"},
    {"Variable": "$.x", "StringEquals": "1", "Next": "b", "Nxet": "b"},
])
def test_moto_parser_rejects_a_broken_definition(rule):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    broken = {"StartAt": "a", "States": {
        "a": {"Type": "Choice", "Choices": [rule], "Default": "b"},
        "b": {"Type": "Pass", "End": True}}}
    with pytest.raises(Exception, match="ASLParserException|mismatched|expecting"):
        AmazonStateLanguageParser.parse(json.dumps(broken))
