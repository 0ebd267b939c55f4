"""trigger (parameter validation), runs, status, terminate — executions not run."""

from __future__ import annotations

import json

import pytest

from sfncompile.deploy import operate
from sfncompile.deploy.runids import RUN_ID
from sfncompile.diagnostics import UserError

from .conftest import flow_file


@pytest.fixture
def deployed(cloud):
    result = cloud.deploy(flow_file("required_param_flow"))
    return cloud, result


def test_trigger_with_valid_parameters_starts_a_named_execution(deployed):
    cloud, result = deployed
    run_id = operate.trigger(cloud.config, str(flow_file("required_param_flow")),
                             '{"count": "7", "ratio": 2, "verbose": "true", "config": "{\\"b\\": 2}"}')
    assert RUN_ID.match(run_id)
    sfn = cloud.client("stepfunctions")
    execution = sfn.describe_execution(executionArn=result.state_machine_arn.replace(":stateMachine:", ":execution:")
                                       + ":" + run_id)
    assert execution["name"] == run_id
    # Converted to the declared types before anything started.
    assert json.loads(execution["input"]) == {"parameters": {"count": 7, "ratio": 2.0, "verbose": True,
                                                             "config": {"b": 2}}}
    # The run record is written first (same mechanism as local runs and resumes).
    from sfncompile_runtime.datastore import Datastore

    record = Datastore(result.datastore_root, "RequiredParamFlow").read_run(run_id)
    assert record["parameters"]["count"] == 7
    assert f"production:{result.production_token}" in record["system_tags"]


@pytest.mark.parametrize("params, message", [
    (None, "missing required parameter(s) count"),
    ('{"ratio": 0.1}', "missing required parameter(s) count"),
    ('{"count": "seven"}', "parameter 'count' must be an integer"),
    ('{"count": 1.5}', "parameter 'count' must be an integer"),
    ('{"count": 1, "ratio": "high"}', "parameter 'ratio' must be a number"),
    ('{"count": 1, "verbose": "maybe"}', "parameter 'verbose' must be true or false"),
    ('{"count": 1, "config": "{not json"}', "parameter 'config' must be JSON"),
    ('{"count": 1, "colour": "red"}', "has no parameter(s) colour"),
    ("[1, 2]", "--params must be a JSON object"),
    ("{oops", "--params is not valid JSON"),
])
def test_trigger_refuses_bad_parameters(tmp_path, params, message):
    from sfncompile.config import Config

    # Checked before any AWS call: the endpoint here does not even exist.
    config = Config.load(tmp_path, flags={"endpoint_url": "http://127.0.0.1:9", "region": "us-east-1"})
    with pytest.raises(UserError) as err:
        operate.trigger(config, str(flow_file("required_param_flow")), params)
    assert message in err.value.message


def test_bad_parameters_start_nothing(deployed):
    cloud, result = deployed
    with pytest.raises(UserError, match="must be an integer"):
        operate.trigger(cloud.config, str(flow_file("required_param_flow")), '{"count": "x"}')
    executions = cloud.client("stepfunctions").list_executions(stateMachineArn=result.state_machine_arn)
    assert executions["executions"] == []


def test_trigger_of_a_flow_that_is_not_deployed(cloud):
    with pytest.raises(UserError, match="RequiredParamFlow is not deployed"):
        operate.trigger(cloud.config, str(flow_file("required_param_flow")), '{"count": 1}')


def test_runs_lists_newest_first_and_terminate_stops_a_run(deployed):
    cloud, result = deployed
    first = operate.trigger(cloud.config, str(flow_file("required_param_flow")), '{"count": 1}')
    second = operate.trigger(cloud.config, str(flow_file("required_param_flow")), '{"count": 2}')
    rows = operate.runs(cloud.config, "RequiredParamFlow")
    assert {r["run_id"] for r in rows} == {first, second}
    assert all(r["status"] == "RUNNING" for r in rows)
    operate.terminate(cloud.config, f"RequiredParamFlow/{first}")
    rows = {r["run_id"]: r["status"] for r in operate.runs(cloud.config, str(flow_file("required_param_flow")))}
    assert rows == {first: "ABORTED", second: "RUNNING"}


def test_status_of_unknown_runs_and_bad_run_names(deployed):
    cloud, _ = deployed
    with pytest.raises(UserError, match="no such run"):
        operate.status(cloud.config, "RequiredParamFlow/20260101T000000-abcdef")
    with pytest.raises(UserError, match="FlowName/RUN_ID"):
        operate.status(cloud.config, "just-a-run-id")


def test_unreachable_endpoint_is_one_clear_line(tmp_path, monkeypatch):
    from sfncompile.config import Config

    monkeypatch.setenv("SFNCOMPILE_HOME", str(tmp_path))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    config = Config.load(tmp_path, flags={"endpoint_url": "http://127.0.0.1:9", "region": "us-east-1"})
    with pytest.raises(UserError, match="cannot reach the AWS endpoint http://127.0.0.1:9"):
        operate.runs(config, "AnyFlow")


def test_missing_region_names_the_setting(tmp_path, monkeypatch):
    from sfncompile.config import Config

    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "SFNCOMPILE_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    config = Config.load(tmp_path, flags={"endpoint_url": "http://127.0.0.1:9"})
    with pytest.raises(UserError, match="missing setting 'region'"):
        operate.runs(config, "AnyFlow")


def test_trigger_reads_includefile_and_function_defaults_at_launch(cloud):
    """As Metaflow's launcher: the default computed by a function is evaluated here and the
    IncludeFile read here; its bytes go to the deployment's datastore, the input carries a reference."""
    result = cloud.deploy(flow_file("include_default_flow"))
    run_id = operate.trigger(cloud.config, str(flow_file("include_default_flow")), None)
    sfn = cloud.client("stepfunctions")
    execution = sfn.describe_execution(executionArn=result.state_machine_arn.replace(":stateMachine:", ":execution:")
                                       + ":" + run_id)
    params = json.loads(execution["input"])["parameters"]
    assert params["greeting"] == "hello from IncludeDefaultFlow (greeting)"
    ref = params["movie_data"]["sfncompile_include_file"]
    from sfncompile_runtime.datastore import Datastore

    stored = Datastore(result.datastore_root, "IncludeDefaultFlow").load_artifact(ref)
    assert stored == (flow_file("include_default_flow").parent / "movies.csv").read_bytes()
