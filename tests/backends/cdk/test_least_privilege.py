"""Least privilege, proven against moto with IAM enforced (its access-control mode): the job role a
flow stack synthesises lets the runtime store and load that flow's artifacts, and nothing of another
flow's. The policies are the synthesised ones, resolved as CloudFormation would; the calls are the
runtime's own (``Datastore`` on S3)."""

from __future__ import annotations

import json

import pytest

ACCOUNT, REGION = "123456789012", "us-east-1"
PSEUDO = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::URLSuffix": "amazonaws.com"}


def resolve(value):
    """The few intrinsics a job role policy uses, resolved as at deploy time."""
    if isinstance(value, list):
        return [resolve(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value and value["Ref"] in PSEUDO:
        return PSEUDO[value["Ref"]]
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(p)) for p in parts)
    if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
        raise AssertionError(f"unresolved intrinsic in a job role policy: {value}")
    return {k: resolve(v) for k, v in value.items()}


def job_role_policy(template: dict) -> dict:
    resources = template["Resources"]
    role = next(k for k, v in resources.items() if v["Type"] == "AWS::IAM::Role" and k.startswith("JobRole"))
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]:
            return resolve(resource["Properties"]["PolicyDocument"])
    raise AssertionError("no job role policy in the flow template")


@pytest.fixture
def enforced_roles(aws, synthesized, monkeypatch):
    """(assume(flow) -> credentials env, bucket, flows): roles made from the synthesised job policies."""
    import boto3
    from moto.core.authorization import enable_iam_authentication

    flows = ("TrainEvaluateFlow", "RequiredParamFlow")
    iam = boto3.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    for flow in flows:
        iam.create_role(RoleName=f"job-{flow}", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName=f"job-{flow}", PolicyName="job",
                            PolicyDocument=json.dumps(job_role_policy(synthesized.flow_template(flow))))
    iam.create_user(UserName="operator")
    iam.put_user_policy(UserName="operator", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    bucket = f"sfncompile-{ACCOUNT}-{REGION}"
    boto3.client("s3").create_bucket(Bucket=bucket)

    def use(credentials: dict) -> None:
        from sfncompile_runtime import aws as runtime_aws

        monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
        if credentials.get("SessionToken"):
            monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
        else:
            monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        runtime_aws._clients.clear()

    def assume(flow: str) -> None:
        # explicit keys: boto3's default session keeps the credentials it resolved first
        operator = boto3.session.Session(aws_access_key_id=key["AccessKeyId"],
                                         aws_secret_access_key=key["SecretAccessKey"])
        role = operator.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/job-{flow}",
                                                  RoleSessionName=flow)["Credentials"]
        use(role)

    with enable_iam_authentication():
        yield assume, bucket, flows
    from sfncompile_runtime import aws as runtime_aws

    runtime_aws._clients.clear()


def test_a_job_role_reads_its_flows_artifacts_and_not_another_flows(enforced_roles):
    from botocore.exceptions import ClientError

    from sfncompile_runtime.datastore import Datastore

    assume, bucket, (flow_a, flow_b) = enforced_roles
    root = f"s3://{bucket}"
    assume(flow_b)
    theirs = Datastore(root, flow_b).put_artifact({"secret": "of B"})
    assert Datastore(root, flow_b).load_artifact(theirs) == {"secret": "of B"}

    assume(flow_a)
    mine = Datastore(root, flow_a).put_artifact(list(range(10)))
    assert Datastore(root, flow_a).load_artifact(mine) == list(range(10))
    Datastore(root, flow_a).write_run("20260101T000000-abcdef", {"run_id": "20260101T000000-abcdef"})
    assert Datastore(root, flow_a).storage.list_children(f"{flow_a}/runs") == ["20260101T000000-abcdef"]
    with pytest.raises(ClientError) as denied:
        Datastore(root, flow_b).load_artifact(theirs)  # the mirror: A's role cannot read B's artifacts
    assert denied.value.response["Error"]["Code"] in ("AccessDenied", "403")
    with pytest.raises(ClientError):
        Datastore(root, flow_b).storage.put_bytes(f"{flow_b}/data/planted", b"x")
    with pytest.raises(ClientError):  # nor anything outside a flow prefix (the old @pypi cache place)
        Datastore(root, flow_a).storage.put_bytes(".cache/pypi/x.tar.gz", b"x")
