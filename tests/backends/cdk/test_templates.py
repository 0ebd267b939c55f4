"""What the synthesised stacks contain (one shared synth, see conftest)."""

from __future__ import annotations

import json

from sfncompile.backends.cdk.jobspec import fargate_size

from .conftest import CODE_SHA, SECURITY_GROUP, SUBNET_A, SUBNET_B, TOKEN, text


def test_every_flow_has_a_stack(synthesized):
    assert set(synthesized.result.flow_stacks) == set(synthesized.builds)
    assert synthesized.result.platform_stack == "sfncompile-platform"


def test_state_machine_is_the_compiled_definition(synthesized):
    for flow, build in synthesized.builds.items():
        (machine,) = synthesized.resources(flow, "AWS::StepFunctions::StateMachine").values()
        props = machine["Properties"]
        # Exactly the text `sfncompile compile` emits, placeholders and all.
        assert props["DefinitionString"] == build.definition_text, flow
        assert set(props["DefinitionSubstitutions"]) == build.placeholders, flow
        assert props["LoggingConfiguration"]["Level"] == "ALL"
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert props["StateMachineName"] == synthesized.result.flow_stacks[flow]


def test_substitutions_point_at_this_stack_and_the_platform(synthesized):
    for flow in synthesized.builds:
        (machine,) = synthesized.resources(flow, "AWS::StepFunctions::StateMachine").values()
        subs = machine["Properties"]["DefinitionSubstitutions"]
        jobdefs = synthesized.resources(flow, "AWS::Batch::JobDefinition")
        for name, value in subs.items():
            if name.startswith("JobDefinition"):
                assert value["Ref"] in jobdefs
            elif name == "JobQueue":
                assert text(value).endswith(":job-queue/sfncompile-fargate")
            elif name == "SideChannelTable":
                assert value == "sfncompile-side-channel"
            elif name == "MapResultBucket":
                assert text(value) == "sfncompile-${AWS::AccountId}-${AWS::Region}"


def test_one_job_definition_per_resource_spec(synthesized):
    for flow, build in synthesized.builds.items():
        jobdefs = synthesized.resources(flow, "AWS::Batch::JobDefinition")
        assert len(jobdefs) == len(build.job_specs), flow
        names = {jd["Properties"]["JobDefinitionName"] for jd in jobdefs.values()}
        stack = synthesized.result.flow_stacks[flow]
        assert names == {f"{stack}-{p[len('JobDefinition'):]}" for p in build.job_specs}


def test_job_definition_contract(synthesized):
    """docs/state-machine.md §1: command, static environment, infra-only retries, Fargate sizes."""
    build = synthesized.builds["HyperparameterSweepFlow"]
    for jd in synthesized.resources("HyperparameterSweepFlow", "AWS::Batch::JobDefinition").values():
        props = jd["Properties"]
        container = props["ContainerProperties"]
        key = "JobDefinition" + props["JobDefinitionName"].rsplit("-", 1)[1]
        spec = build.job_specs[key]
        assert container["Command"] == spec.command
        assert container["Command"][0] == "python3" and container["Command"][-2:] == ["Ref::mode", "Ref::step"]
        env = {e["Name"]: text(e["Value"]) for e in container["Environment"]}
        assert env["SFNCOMPILE_CODE_URL"] == (f"s3://sfncompile-${{AWS::AccountId}}-${{AWS::Region}}/"
                                              f"HyperparameterSweepFlow/code/{CODE_SHA}.tar.gz")
        assert env["SFNCOMPILE_CODE_SHA256"] == CODE_SHA
        assert env["SFNCOMPILE_DATASTORE"] == "s3://sfncompile-${AWS::AccountId}-${AWS::Region}"
        assert env["SFNCOMPILE_SIDE_CHANNEL"] == "sfncompile-side-channel"
        assert env["SFNCOMPILE_PRODUCTION_TOKEN"] == TOKEN
        assert props["Parameters"] == {"mode": "step"}
        assert props["PlatformCapabilities"] == ["FARGATE"]
        retry = props["RetryStrategy"]
        assert retry["EvaluateOnExit"][-1] == {"OnReason": "*", "Action": "EXIT"}
        assert any(r.get("OnStatusReason") == "Host EC2*" for r in retry["EvaluateOnExit"])
        req = {r["Type"]: r["Value"] for r in container["ResourceRequirements"]}
        cpu, memory = fargate_size(spec.vcpus, spec.memory)
        assert (float(req["VCPU"]), int(req["MEMORY"])) == (cpu, memory)
        assert container["JobRoleArn"] != container["ExecutionRoleArn"]


def test_timeouts_reach_job_definitions(synthesized):
    timeouts = sorted(jd["Properties"].get("Timeout", {}).get("AttemptDurationSeconds", 0)
                      for jd in synthesized.resources("NightlyReportFlow", "AWS::Batch::JobDefinition").values())
    assert timeouts == [0, 120, 600]


def test_schedule_with_timezone_and_parameter_defaults(synthesized):
    (schedule,) = synthesized.resources("NightlyReportFlow", "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(30 3 * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert json.loads(props["Target"]["Input"]) == {"parameters": {"currency": "EUR", "report_date": ""}}
    assert props["Target"]["Arn"] == {"Fn::GetAtt": ["StateMachine", "Arn"]}
    # Flows without @schedule get none.
    assert not synthesized.resources("TrainEvaluateFlow", "AWS::Scheduler::Schedule")


def test_event_trigger_maps_event_fields_to_parameters(synthesized):
    (rule,) = synthesized.resources("TriggeredFlow", "AWS::Events::Rule").values()
    props = rule["Properties"]
    assert props["EventPattern"] == {"source": ["sfncompile"], "detail-type": ["data_ready"]}
    transformer = props["Targets"][0]["InputTransformer"]
    assert transformer["InputPathsMap"] == {"p0": "$.detail.value", "p1": "$.detail.source"}
    assert transformer["InputTemplate"] == '{"parameters": {"alpha": <p0>, "label": <p1>}}'


def test_project_branch_names_and_trigger_on_finish(synthesized):
    stacks = synthesized.result.flow_stacks
    assert stacks["TriggeredFlow"] == "sfncompile-demo-user-tester-triggered-flow"
    assert stacks["DownstreamFlow"] == "sfncompile-demo-user-tester-downstream-flow"
    rules = synthesized.resources("DownstreamFlow", "AWS::Events::Rule")
    finish = next(r["Properties"] for r in rules.values() if r["Properties"]["EventPattern"]["detail"]["status"]
                  == ["SUCCEEDED"])
    upstream = text(finish["EventPattern"]["detail"]["stateMachineArn"][0])
    # The upstream flow's state machine on the same project branch.
    assert upstream.endswith(":stateMachine:sfncompile-demo-user-tester-triggered-flow")


def test_project_branches_get_their_own_datastore_prefix(synthesized):
    outputs = synthesized.flow_template("TriggeredFlow")["Outputs"]
    root = "s3://sfncompile-${AWS::AccountId}-${AWS::Region}/projects/demo/user.tester"
    assert text(outputs["DatastoreRoot"]["Value"]) == root
    (jobdef,) = synthesized.resources("TriggeredFlow", "AWS::Batch::JobDefinition").values()
    env = {e["Name"]: text(e["Value"]) for e in jobdef["Properties"]["ContainerProperties"]["Environment"]}
    assert env["SFNCOMPILE_DATASTORE"] == root
    assert env["SFNCOMPILE_CODE_URL"].startswith(root + "/TriggeredFlow/code/")


def test_exit_hook_notifies_terminal_states(synthesized):
    rules = synthesized.resources("DownstreamFlow", "AWS::Events::Rule")
    terminal = next(r["Properties"] for r in rules.values()
                    if "FAILED" in r["Properties"]["EventPattern"]["detail"]["status"])
    assert terminal["EventPattern"]["detail"]["status"] == ["FAILED", "TIMED_OUT", "ABORTED"]
    (topic_id,) = synthesized.resources("DownstreamFlow", "AWS::SNS::Topic")
    assert terminal["Targets"][0]["Arn"] == {"Ref": topic_id}


def test_platform_datastore_and_side_channel(synthesized):
    resources = synthesized.platform_template()["Resources"]
    buckets = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::S3::Bucket"}
    data = next(p for p in buckets.values() if "LoggingConfiguration" in p)
    assert data["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == \
        {"SSEAlgorithm": "AES256"}
    assert data["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                      "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert data["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r.get("Id"): r for r in data["LifecycleConfiguration"]["Rules"]}
    assert rules["temporary-objects"]["Prefix"] == "tmp/" and rules["temporary-objects"]["ExpirationInDays"] == 7
    policies = [v["Properties"]["PolicyDocument"] for v in resources.values() if v["Type"] == "AWS::S3::BucketPolicy"]
    assert all(any(st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for st in p["Statement"]) for p in policies) and len(policies) == 2
    (table,) = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::DynamoDB::Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_platform_fargate_queue_and_created_network(synthesized):
    resources = synthesized.platform_template()["Resources"]
    (env,) = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::Batch::ComputeEnvironment"]
    assert env["Type"] == "MANAGED" and env["ComputeResources"]["Type"] == "FARGATE"
    assert "ServiceRole" not in env  # the Batch service-linked role
    (queue,) = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::Batch::JobQueue"]
    assert queue["JobQueueName"] == "sfncompile-fargate"
    assert "Ref" in queue["ComputeEnvironmentOrder"][0]["ComputeEnvironment"]
    kinds = {v["Type"] for v in resources.values()}
    assert {"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::SecurityGroup", "AWS::EC2::FlowLog"} <= kinds
    assert "AWS::EC2::NatGateway" not in kinds  # no fixed network cost
    (group,) = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::EC2::SecurityGroup"]
    assert "SecurityGroupIngress" not in group


def test_ec2_spot_gpu_platform_on_imported_networking(synthesized):
    resources = synthesized.platform_template("sfnc-ec2-platform")["Resources"]
    kinds = [v["Type"] for v in resources.values()]
    assert "AWS::EC2::VPC" not in kinds and "AWS::EC2::SecurityGroup" not in kinds
    envs = {v["Properties"]["ComputeEnvironmentName"]: v["Properties"]["ComputeResources"]
            for v in resources.values() if v["Type"] == "AWS::Batch::ComputeEnvironment"}
    assert set(envs) == {"sfnc-ec2-ec2", "sfnc-ec2-spot", "sfnc-ec2-gpu"}
    assert envs["sfnc-ec2-spot"]["Type"] == "SPOT"
    assert envs["sfnc-ec2-gpu"]["Ec2Configuration"] == [{"ImageType": "ECS_AL2_NVIDIA"}]
    for compute in envs.values():
        assert compute["Subnets"] == [SUBNET_A, SUBNET_B] and compute["SecurityGroupIds"] == [SECURITY_GROUP]
        assert compute["MinvCpus"] == 0
    assert kinds.count("AWS::IAM::InstanceProfile") == 1


def test_existing_resources_are_not_created(synthesized):
    template = synthesized.platform_template("sfnc-existing-platform")
    kinds = {v["Type"] for v in template["Resources"].values()}
    assert not kinds & {"AWS::S3::Bucket", "AWS::DynamoDB::Table"}
    assert "AWS::Batch::JobQueue" in kinds
    assert template["Outputs"]["BucketName"]["Value"] == "team-data-bucket"
    assert template["Outputs"]["TableName"]["Value"] == "team-side-channel"


def test_outputs_name_the_deployment(synthesized):
    outputs = synthesized.flow_template("TrainEvaluateFlow")["Outputs"]
    assert outputs["FlowName"]["Value"] == "TrainEvaluateFlow"
    assert outputs["ProductionToken"]["Value"] == TOKEN
    assert outputs["StateMachineArn"]["Value"] == {"Fn::GetAtt": ["StateMachine", "Arn"]}


def test_no_assets_and_no_bootstrap(synthesized):
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    kinds = {a["type"] for a in manifest["artifacts"].values()}
    assert "cdk:asset-manifest" not in kinds
    for template in synthesized.result.templates.values():
        assert "BootstrapVersion" not in template.get("Parameters", {})
        assert not [v for v in template["Resources"].values() if v["Type"].startswith("Custom::")
                    or v["Type"] == "AWS::Lambda::Function"]


def test_secrets_job_role_reads_exactly_the_flow_secrets(synthesized):
    from .conftest import policy_statements, text

    template = synthesized.flow_template("SecretsFlow")
    role_policy = next(k for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Policy"
                       and k.startswith("JobRole"))
    statements = {s["Sid"]: s for k, s in policy_statements(template) if k == role_policy}
    secrets = statements["FlowSecrets"]
    assert secrets["Action"] == "secretsmanager:GetSecretValue"
    arns = sorted(text(r) for r in secrets["Resource"])
    assert arns == sorted([
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:db-creds-??????",
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:api-key-AbC123",
        "arn:${AWS::Partition}:secretsmanager:us-west-2:${AWS::AccountId}:secret:west-??????"])
    # a source read under its own role: the job role may assume that role, not read the secret
    assert statements["FlowSecretsRoles"] == {"Action": "sts:AssumeRole", "Effect": "Allow",
                                              "Resource": "arn:aws:iam::444455556666:role/secret-reader",
                                              "Sid": "FlowSecretsRoles"}
    other = synthesized.flow_template("TrainEvaluateFlow")
    assert not [s for _, s in policy_statements(other) if "secretsmanager" in str(s.get("Action"))]
