"""Test support: fill the gaps in moto's CloudFormation so our real templates deploy.

Each patch is a gap in moto 5.2 (not in our templates; real CloudFormation
accepts them as they are):

1. ``AWS::Batch::ComputeEnvironment``: moto requires ``ServiceRole`` (AWS uses the
   Batch service-linked role when it is absent) → we create that role in moto's IAM.
2. ``AWS::Batch::JobDefinition``: moto reads ``timeout`` (lower case) instead of
   ``Timeout``, ignores ``PlatformCapabilities``/``PropagateTags`` and has no update
   (a changed definition stays at its first revision) → our create + update
   (update registers a new revision, as AWS does).
3. ``AWS::StepFunctions::StateMachine``: moto ignores ``DefinitionSubstitutions`` and
   always creates the machine in the non-executing backend → we substitute
   ``${Name}`` and create it in the backend the API uses (the executing one when
   ``stepfunctions.execute_state_machine`` is configured); ``Fn::GetAtt ... Arn``
   is not supported either → added.
4. ``AWS::Scheduler::Schedule``: moto has no CloudFormation model (silently skipped)
   → a small model over moto's EventBridge Scheduler backend.
5. ``AWS::Events::Rule``: moto drops ``InputTransformer``/``RoleArn`` of targets
   → kept as given (``list_targets_by_rule`` then shows them).
6. Change sets: ``execute_change_set`` never recomputes the stack's outputs (they
   stay those of the empty REVIEW_IN_PROGRESS stack) → recomputed after apply.
7. ``AWS::S3::BucketPolicy``: no CloudFormation model (skipped with a warning)
   → a model that puts the policy on the bucket, minus the TLS-only deny: the
   moto server speaks plain HTTP, and moto enforces ``aws:SecureTransport``.
8. ``AWS::S3::Bucket``: ``VersioningConfiguration`` is ignored → applied.
9. Stack deletion: ``AWS::EC2::RouteTable``, ``AWS::EC2::VPCGatewayAttachment``,
   ``AWS::EC2::InternetGateway`` and ``AWS::EC2::FlowLog`` have no delete, so they
   outlive their stack and the VPC's deletion fails with ``DependencyViolation``
   (moto refuses a VPC with more than its main route table) → deleted (route
   tables after their subnet associations, gateways after their detachment).

``install()`` is idempotent; the moto server runs in this process
(ThreadedMotoServer), so patching the classes patches the server.
"""

from __future__ import annotations

import json
import re
from typing import Any

_installed = False


def _deep_lower_first(value: Any, keep_keys_of: tuple[str, ...] = ("parameters", "tags", "options")) -> Any:
    """Batch API casing (``Name`` → ``name``) for a CloudFormation property tree."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            new_key = key[:1].lower() + key[1:]
            out[new_key] = item if new_key in keep_keys_of else _deep_lower_first(item)
        return out
    if isinstance(value, list):
        return [_deep_lower_first(v) for v in value]
    return value


def _batch_service_role(account_id: str) -> str:
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["global"]
    name = "AWSServiceRoleForBatch"
    try:
        return iam.get_role(name).arn
    except Exception:
        role = iam.create_role(name, json.dumps({"Version": "2012-10-17", "Statement": []}),
                               path="/aws-service-role/batch.amazonaws.com/", permissions_boundary=None,
                               description="Batch service-linked role (test support)", tags=[],
                               max_session_duration=3600)
        return role.arn


def _register(backend, name: str, props: dict[str, Any]):
    return backend.register_job_definition(
        def_name=name,
        parameters=props.get("Parameters", {}),
        _type=props.get("Type", "container"),
        tags=props.get("Tags", {}),
        retry_strategy=_deep_lower_first(props.get("RetryStrategy", {})),
        container_properties=_deep_lower_first(props["ContainerProperties"]) if "ContainerProperties" in props else None,
        node_properties=None,
        eks_properties=None,
        timeout=_deep_lower_first(props.get("Timeout", {})),
        platform_capabilities=props.get("PlatformCapabilities") or ["EC2"],
        propagate_tags=bool(props.get("PropagateTags", False)),
    )


def _substitute(definition: str, substitutions: dict[str, Any]) -> str:
    def repl(match):
        name = match.group(1)
        return str(substitutions[name]) if name in substitutions else match.group(0)

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}", repl, definition)


def _sfn_backend(account_id: str, region: str):
    from moto.stepfunctions.responses import get_backend

    return get_backend(account_id, region)


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    from moto.batch import models as batch_models
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.events import models as events_models
    from moto.stepfunctions import models as sfn_models

    # 1. compute environments without ServiceRole
    original_ce = batch_models.ComputeEnvironment.create_from_cloudformation_json.__func__

    def create_ce(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        if not props.get("ServiceRole"):
            props = {**props, "ServiceRole": _batch_service_role(account_id)}
        return original_ce(cls, resource_name, {**cloudformation_json, "Properties": props}, account_id,
                           region_name, **kwargs)

    batch_models.ComputeEnvironment.create_from_cloudformation_json = classmethod(create_ce)

    # 2. job definitions: casing, Timeout, update = new revision, delete = deregister
    def create_jd(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        backend = batch_models.batch_backends[account_id][region_name]
        return _register(backend, resource_name, cloudformation_json["Properties"])

    def update_jd(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        backend = batch_models.batch_backends[account_id][region_name]
        return _register(backend, original_resource.name, cloudformation_json["Properties"])

    def delete_jd(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = batch_models.batch_backends[account_id][region_name]
        for jd in list(backend._job_definitions.values()):
            if resource_name in (jd.arn, jd.name):
                backend.deregister_job_definition(jd.arn)

    batch_models.JobDefinition.create_from_cloudformation_json = classmethod(create_jd)
    batch_models.JobDefinition.update_from_cloudformation_json = classmethod(update_jd)
    batch_models.JobDefinition.delete_from_cloudformation_json = classmethod(delete_jd)

    # 3. state machines: substitutions, the executing backend, update, delete
    def sm_definition(props):
        return _substitute(props.get("DefinitionString", ""), props.get("DefinitionSubstitutions") or {})

    def create_sm(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        name = props.get("StateMachineName", resource_name)
        backend = _sfn_backend(account_id, region_name)
        tags = [{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])]
        return backend.create_state_machine(name, sm_definition(props), props.get("RoleArn", ""), tags=tags)

    def update_sm(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        props = cloudformation_json.get("Properties", {})
        backend = _sfn_backend(account_id, region_name)
        backend.update_state_machine(original_resource.arn, definition=sm_definition(props),
                                     role_arn=props.get("RoleArn"))
        return backend.describe_state_machine(original_resource.arn)

    def delete_sm(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = _sfn_backend(account_id, region_name)
        for machine in list(backend.state_machines):
            if resource_name in (machine.arn, machine.name):
                backend.delete_state_machine(machine.arn)

    original_has_attr = sfn_models.StateMachine.has_cfn_attr.__func__
    original_get_attr = sfn_models.StateMachine.get_cfn_attribute

    def has_attr(cls, attr):
        return attr == "Arn" or original_has_attr(cls, attr)

    def get_attr(self, attr):
        return self.arn if attr == "Arn" else original_get_attr(self, attr)

    sfn_models.StateMachine.has_cfn_attr = classmethod(has_attr)
    sfn_models.StateMachine.get_cfn_attribute = get_attr
    sfn_models.StateMachine.create_from_cloudformation_json = classmethod(create_sm)
    sfn_models.StateMachine.update_from_cloudformation_json = classmethod(update_sm)
    sfn_models.StateMachine.delete_from_cloudformation_json = classmethod(delete_sm)

    # 4. EventBridge Scheduler schedules
    class ScheduleModel(CloudFormationModel):
        def __init__(self, schedule):
            self.schedule = schedule

        @property
        def physical_resource_id(self) -> str:
            return self.schedule.name

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Scheduler::Schedule"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.schedule.arn

        @staticmethod
        def _backend(account_id, region_name):
            from moto.scheduler.models import scheduler_backends

            return scheduler_backends[account_id][region_name]

        @classmethod
        def _create(cls, name, props, account_id, region_name):
            return cls(cls._backend(account_id, region_name).create_schedule(
                description=props.get("Description"), end_date=props.get("EndDate"),
                flexible_time_window=props.get("FlexibleTimeWindow", {"Mode": "OFF"}),
                group_name=props.get("GroupName"), kms_key_arn=props.get("KmsKeyArn"), name=name,
                schedule_expression=props["ScheduleExpression"],
                schedule_expression_timezone=props.get("ScheduleExpressionTimezone"),
                start_date=props.get("StartDate"), state=props.get("State", "ENABLED"),
                target=props["Target"], action_after_completion=None))

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name,
                                            **kwargs):
            return cls._create(resource_name, cloudformation_json["Properties"], account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                            account_id, region_name):
            cls.delete_from_cloudformation_json(original_resource.schedule.name, cloudformation_json, account_id,
                                                region_name)
            return cls._create(original_resource.schedule.name, cloudformation_json["Properties"], account_id,
                               region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
            props = cloudformation_json.get("Properties", {})
            try:
                cls._backend(account_id, region_name).delete_schedule(props.get("GroupName"), resource_name)
            except Exception:
                pass

    # 5. rule targets keep InputTransformer and RoleArn
    original_rule = events_models.Rule.create_from_cloudformation_json.__func__

    def create_rule(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        rule = original_rule(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        targets = cloudformation_json["Properties"].get("Targets", [])
        if targets:
            backend = events_models.events_backends[account_id][region_name]
            backend.put_targets(rule.name, rule.event_bus_name, targets)
        return rule

    events_models.Rule.create_from_cloudformation_json = classmethod(create_rule)

    # 6. outputs after a change set
    from moto.cloudformation import models as cfn_models

    original_apply = cfn_models.ChangeSet.apply

    def apply(self):
        original_apply(self)
        self.stack.template = self.template
        self.stack._parse_template()
        self.stack.output_map = self.stack._create_output_map()

    cfn_models.ChangeSet.apply = apply

    # 7. bucket policies
    class BucketPolicyModel(CloudFormationModel):
        def __init__(self, bucket: str):
            self.bucket = bucket

        @property
        def physical_resource_id(self) -> str:
            return self.bucket

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::S3::BucketPolicy"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name,
                                            **kwargs):
            from moto.s3.models import s3_backends

            props = cloudformation_json["Properties"]
            document = dict(props["PolicyDocument"])
            document["Statement"] = [st for st in document.get("Statement", [])
                                     if "aws:SecureTransport" not in json.dumps(st.get("Condition", {}))]
            if document["Statement"]:
                s3_backends[account_id]["aws"].put_bucket_policy(props["Bucket"], json.dumps(document).encode())
            return cls(props["Bucket"])

        @classmethod
        def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,
                                            account_id, region_name):
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                       region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
            from moto.s3.models import s3_backends

            try:
                s3_backends[account_id]["aws"].delete_bucket_policy(cloudformation_json["Properties"]["Bucket"])
            except Exception:
                pass

    # 8. bucket versioning
    from moto.s3 import models as s3_models

    original_bucket = s3_models.FakeBucket.create_from_cloudformation_json.__func__

    def create_bucket(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        bucket = original_bucket(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        status = cloudformation_json.get("Properties", {}).get("VersioningConfiguration", {}).get("Status")
        if status:
            s3_models.s3_backends[account_id]["aws"].put_bucket_versioning(bucket.name, status)
        return bucket

    s3_models.FakeBucket.create_from_cloudformation_json = classmethod(create_bucket)

    # 9. EC2 networking resources that moto's CloudFormation never deletes
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.flow_logs import FlowLogs
    from moto.ec2.models.internet_gateways import InternetGateway
    from moto.ec2.models.route_tables import RouteTable
    from moto.ec2.models.vpn_gateway import VPCGatewayAttachment

    def delete_route_table(self, account_id, region_name):
        backend = ec2_backends[account_id][region_name]
        for association in list(self._associations):
            backend.disassociate_route_table(association)
        backend.delete_route_table(self.id)

    def detach_gateway(self, account_id, region_name):
        backend = ec2_backends[account_id][region_name]
        gateway = backend.internet_gateways.get(self.gateway_id or "")
        if gateway is not None and gateway.vpc is not None:  # not already gone with its gateway
            backend.detach_internet_gateway(gateway.id, self.vpc_id)

    def delete_gateway(self, account_id, region_name):
        backend = ec2_backends[account_id][region_name]
        if self.vpc is not None:
            backend.detach_internet_gateway(self.id, self.vpc.id)
        backend.delete_internet_gateway(self.id)

    def delete_flow_log(self, account_id, region_name):
        ec2_backends[account_id][region_name].delete_flow_logs([self.id])

    RouteTable.delete = delete_route_table
    VPCGatewayAttachment.delete = detach_gateway
    InternetGateway.delete = delete_gateway
    FlowLogs.delete = delete_flow_log

    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    assert parsing.get_model_map()["AWS::Scheduler::Schedule"] is ScheduleModel
    assert parsing.get_model_map()["AWS::S3::BucketPolicy"] is BucketPolicyModel
