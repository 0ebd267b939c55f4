"""Job definitions: one per distinct resource spec, shared by the CDK stack and the local executor."""

from __future__ import annotations

from sfncompile.backends.asl import compile_definition, substitutions_needed
from sfncompile.backends.jobdefs import (
    JobDefinitionSettings, ResourceSpec, job_definition_keys, job_definitions, resource_spec,
)

from .shapes import SHAPES, deco, make_flow


def test_keys_are_shared_and_match_the_asl():
    graph = SHAPES["decorated"]()
    specs = job_definitions(graph)
    assert list(specs) == sorted(specs) == ["C1M8192", "C4M16384G1T7200", "Default"]
    assert specs["Default"].steps == ["start", "end"]
    placeholders = {s.placeholder for s in specs.values()}
    assert placeholders == {p for p in substitutions_needed(compile_definition(graph)) if p.startswith("JobDef")}
    assert job_definition_keys(graph)["train"] == "C4M16384G1T7200"


def test_batch_and_resources_take_the_larger_value():
    graph = make_flow("ResFlow", {"start": ("linear", ["end"]), "end": ("end",)}, decorators={
        "start": [deco("batch", cpu=2, memory=1024), deco("resources", cpu=1, memory=8192, gpu=2)]})
    assert resource_spec(graph["start"]) == ResourceSpec(cpu=2, memory=8192, gpu=2)


def test_image_changes_the_key_not_the_default():
    graph = make_flow("ImgFlow", {"start": ("linear", ["end"]), "end": ("end",)}, decorators={
        "start": [deco("batch", image="my/image:1")]})
    key = job_definition_keys(graph)["start"]
    assert key.startswith("C1M4096X") and key.isalnum()
    spec = job_definitions(graph, {"image": "default/image"})[key]
    assert spec.image == "my/image:1"
    assert job_definitions(graph, {"image": "default/image"})["Default"].image == "default/image"


def test_iam_role_gets_its_own_definition():
    graph = make_flow("RoleFlow", {"start": ("linear", ["end"]), "end": ("end",)}, decorators={
        "start": [deco("batch", iam_role="arn:aws:iam::123456789012:role/reader")]})
    key = job_definition_keys(graph)["start"]
    assert key != "Default"
    spec = job_definitions(graph)[key]
    assert spec.to_batch("x")["containerProperties"]["jobRoleArn"] == "arn:aws:iam::123456789012:role/reader"


def test_command_environment_and_retry_strategy():
    from sfncompile_runtime.bootstrap import BOOTSTRAP_SOURCE

    settings = JobDefinitionSettings(image="img", code_url="s3://b/p/F/code/x.tar.gz", code_sha256="ab" * 32,
                                     datastore="s3://b/p", side_channel="table")
    spec = job_definitions(SHAPES["linear"](), settings)["Default"]
    assert spec.command == ["python3", "-c", BOOTSTRAP_SOURCE, "Ref::mode", "Ref::step"]
    assert spec.parameters == {"mode": "step"}
    assert spec.environment == {"SFNCOMPILE_CODE_URL": "s3://b/p/F/code/x.tar.gz",
                                "SFNCOMPILE_CODE_SHA256": "ab" * 32, "SFNCOMPILE_DATASTORE": "s3://b/p",
                                "SFNCOMPILE_SIDE_CHANNEL": "table"}
    exits = spec.retry_strategy["evaluateOnExit"]
    assert exits[-1] == {"onReason": "*", "action": "EXIT"} and len(exits) <= 5
    assert exits[0] == {"onStatusReason": "Host EC2*", "action": "RETRY"}


def test_timeout_has_batch_minimum():
    graph = make_flow("TFlow", {"start": ("linear", ["end"]), "end": ("end",)}, decorators={
        "start": [deco("timeout", seconds=10)]})
    spec = job_definitions(graph)[job_definition_keys(graph)["start"]]
    assert spec.timeout_seconds == 10
    assert spec.to_batch("x")["timeout"] == {"attemptDurationSeconds": 60}
    state = compile_definition(graph)["States"]["start"]
    assert state["Parameters"]["Timeout"] == {"AttemptDurationSeconds": 60}


def test_moto_batch_registers_every_spec(aws):
    import boto3

    batch = boto3.client("batch", endpoint_url=aws.endpoint)
    for key, spec in job_definitions(SHAPES["decorated"](), {"image": "python:3.11-slim"}).items():
        request = spec.to_batch(f"decorated-{key}")
        arn = batch.register_job_definition(**request)["jobDefinitionArn"]
        (found,) = batch.describe_job_definitions(jobDefinitions=[arn])["jobDefinitions"]
        assert found["containerProperties"]["command"] == spec.command
        assert found["retryStrategy"]["attempts"] == spec.retry_strategy["attempts"]
