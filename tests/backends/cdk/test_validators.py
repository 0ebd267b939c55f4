"""External validators on every synthesised template: cfn-lint, checkov, cdk-nag,
and our own rule that no IAM statement grants '*' actions or '*' on data."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import as_list, policy_statements, text

VENV_BIN = Path(sys.executable).parent

# Actions AWS offers no resource-level permission for (or whose resource is not data).
STAR_RESOURCE_ACTIONS = {
    "batch:DescribeJobs", "ecr:GetAuthorizationToken",
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
}


def _tool(name: str) -> str:
    found = VENV_BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def test_cfn_lint_has_no_errors(synthesized):
    templates = sorted(str(p) for p in synthesized.outdir.glob("*.template.json"))
    assert len(templates) == len(synthesized.result.templates)
    proc = subprocess.run([_tool("cfn-lint"), "--format", "json", *templates], capture_output=True, text=True)
    findings = json.loads(proc.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert errors == [], "\n".join(f"{f['Filename']}: {f['Rule']['Id']} {f['Message']}" for f in errors)


def test_checkov_has_no_failures_and_every_skip_has_a_reason(synthesized):
    proc = subprocess.run([_tool("checkov"), "-d", str(synthesized.outdir), "--framework", "cloudformation",
                           "-o", "json", "--skip-download", "--compact"], capture_output=True, text=True)
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r["results"].get("failed_checks", [])]
    assert failed == [], "\n".join(f"{c['check_id']} {c['resource']} {c['file_path']}" for c in failed)
    passed = sum(r["summary"]["passed"] for r in reports)
    skipped = sum(r["summary"]["skipped"] for r in reports)
    assert passed > 100 and skipped > 0
    for r in reports:
        for skipped in r["results"].get("skipped_checks", []):
            comment = skipped.get("check_result", {}).get("suppress_comment") or skipped.get("suppress_comment") or ""
            assert len(comment) > 20, skipped["check_id"]


def test_cdk_nag_findings_are_all_acknowledged_with_reasons(synthesized):
    # The synth ran with AwsSolutionsChecks; an unacknowledged finding fails it (UserError).
    acknowledged = {}
    for path in synthesized.outdir.glob("*.metadata.json"):
        for entries in json.loads(path.read_text()).values():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    acknowledged.update(entry["data"])
    assert acknowledged
    assert all(len(reason) > 20 for reason in acknowledged.values())
    assert all("AwsSolutions-" in rule for rule in acknowledged)


def test_no_wildcard_actions_and_no_wildcard_data_resources(synthesized):
    seen = 0
    for template in synthesized.result.templates.values():
        for logical_id, statement in policy_statements(template):
            seen += 1
            actions = as_list(statement.get("Action", []))
            assert not [a for a in actions if a == "*" or a.endswith(":*")], (logical_id, actions)
            resources = [text(r) for r in as_list(statement.get("Resource", []))]
            if "*" in resources:
                assert set(actions) <= STAR_RESOURCE_ACTIONS, (logical_id, actions)
            for resource in resources:
                if ":s3:::" in resource and resource.endswith("/*"):
                    # Object grants always name a flow prefix (or the map-results prefix), never a whole bucket.
                    key = resource.split(":s3:::", 1)[1].split("/", 1)[1]
                    assert key not in ("*", ""), (logical_id, resource)
                if ":dynamodb:" in resource:
                    assert "dynamodb:LeadingKeys" in json.dumps(statement.get("Condition", {})), logical_id
    assert seen > 50


def test_job_role_reaches_only_its_flow(synthesized):
    for flow in ("HyperparameterSweepFlow", "TrainEvaluateFlow"):
        template = synthesized.flow_template(flow)
        role_policy = next(k for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Policy"
                           and k.startswith("JobRole"))
        statements = {s["Sid"]: s for k, s in policy_statements(template) if k == role_policy}
        assert text(statements["FlowDatastoreObjects"]["Resource"]).endswith(f"/{flow}/*")
        assert statements["FlowDatastoreListing"]["Condition"] == {"StringLike": {"s3:prefix": [f"{flow}/*"]}}
        assert statements["FlowSideChannelItems"]["Condition"] == \
            {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{flow}/*"]}}


def test_state_machine_role_submits_only_to_its_queue_and_job_definitions(synthesized):
    for flow in synthesized.builds:
        template = synthesized.flow_template(flow)
        policy = next(k for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Policy"
                      and k.startswith("StateMachineRole"))
        statements = {s["Sid"]: s for k, s in policy_statements(template) if k == policy}
        submit = [text(r) for r in as_list(statements["SubmitJobs"]["Resource"])]
        names = {jd["Properties"]["JobDefinitionName"]
                 for jd in synthesized.resources(flow, "AWS::Batch::JobDefinition").values()}
        assert {r.rsplit("/", 1)[1] for r in submit if ":job-definition/" in r} == {f"{n}:*" for n in names}
        queues = [r for r in submit if ":job-queue/" in r]
        assert queues and len(submit) == len(names) + len(queues)
        uses_map_results = "MapResultBucket" in synthesized.builds[flow].placeholders
        assert ("MapResults" in statements) == uses_map_results
        assert ("ChildExecutions" in statements) == uses_map_results


def test_literal_queues_and_step_roles(synthesized):
    """@batch(queue=..., iam_role=...): SubmitJob is granted on that queue; the job runs as that role."""
    template = synthesized.flow_template("TeamQueueFlow")
    policy = next(k for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Policy"
                  and k.startswith("StateMachineRole"))
    statements = {s["Sid"]: s for k, s in policy_statements(template) if k == policy}
    submit = [text(r) for r in as_list(statements["SubmitJobs"]["Resource"])]
    assert any(r.endswith(":job-queue/team-queue") for r in submit)
    roles = {jd["Properties"]["ContainerProperties"]["JobRoleArn"] if isinstance(
        jd["Properties"]["ContainerProperties"]["JobRoleArn"], str) else "flow-role"
        for jd in synthesized.resources("TeamQueueFlow", "AWS::Batch::JobDefinition").values()}
    assert roles == {"arn:aws:iam::111122223333:role/team-job", "flow-role"}
