"""The per-flow stack: job definitions, least-privilege roles, the state machine,
schedules, event triggers and terminal-state notifications.

The state machine is the exact text ``sfncompile compile`` emits, given as
``DefinitionString`` with ``DefinitionSubstitutions`` for its ``${Name}``
placeholders; nothing in this module rewrites the definition.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from sfncompile_runtime import envnames

from ...diagnostics import UserError
from .build import FlowBuild
from .definition_uses import definition_uses
from ..secretgrants import secret_grants
from .findings import acknowledge_nag, skip_checkov
from .image import is_runtime_image, runtime_image_asset
from .jobspec import job_definition_properties
from .platform import bucket_name, job_queue_arn, table_name
from .settings import FlowSettings, datastore_prefix, deployment_name, project_branch

TAG_PREFIX = "sfncompile:"
BATCH_LOG_GROUP = "/aws/batch/job"


def schedule_expression(args: dict[str, Any]) -> str:
    """``@schedule`` arguments as an EventBridge Scheduler expression."""
    if args.get("cron"):
        return f"cron({args['cron']})"
    if args.get("hourly"):
        return "cron(0 * * * ? *)"
    if args.get("weekly"):
        return "cron(0 0 ? * SUN *)"
    return "cron(0 0 * * ? *)"  # daily, Metaflow's default


def parameter_defaults(graph) -> dict[str, Any]:
    return {p.name: p.default for p in graph.parameters if p.has_default and not p.default_is_function}


def _event_specs(args: dict[str, Any]) -> list[dict[str, Any]]:
    events = list(args.get("events") or [])
    if args.get("event"):
        events.insert(0, args["event"])
    return [e if isinstance(e, dict) else {"name": e} for e in events]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", name.title()) or "X"


class FlowStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, build: FlowBuild, settings: FlowSettings, **kwargs):
        graph = build.graph
        project = graph.decorator("project")
        project_args = dict(project.args) if project else None
        self.deployment = deployment_name(graph.name, project_args, settings)
        super().__init__(scope, construct_id, stack_name=self.deployment,
                         description=f"sfncompile flow {graph.name} ({self.deployment})", **kwargs)
        self.build, self.settings, self.graph = build, settings, graph
        self.project_args = project_args
        platform = settings.platform
        self.bucket = bucket_name(self, platform)
        self.table = table_name(platform)
        self.queue_arn = job_queue_arn(self, platform)
        self.prefix = datastore_prefix(project_args, settings)
        self.data_prefix = f"{self.prefix}/{graph.name}" if self.prefix else graph.name
        self.datastore_root = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self.state_machine_arn = self.format_arn(service="states", resource="stateMachine",
                                                 resource_name=self.deployment,
                                                 arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        self.table_arn = self.format_arn(service="dynamodb", resource="table", resource_name=self.table)

        # Resource tags stay stable across redeploys: who deployed last is a stack tag
        # (set by `sfncompile deploy`), so a takeover does not touch every resource.
        tags = {"flow": graph.name, "deployment": self.deployment,
                "production_token": settings.production_token or "none"}
        if project_args:
            tags.update(project=project_args["name"], branch=project_branch(project_args, settings))
        for key, value in tags.items():
            cdk.Tags.of(self).add(TAG_PREFIX + key, value)

        self.jobdef_names: list[str] = []  # filled by _job_definitions, granted by _state_machine
        job_role, execution_role = self._job_roles()
        jobdef_refs = self._job_definitions(job_role, execution_role)
        self.state_machine = self._state_machine(jobdef_refs)
        self._schedule()
        self._triggers()
        self._terminal_notifications()

        cdk.CfnOutput(self, "StateMachineArn", value=self.state_machine.attr_arn)
        cdk.CfnOutput(self, "DatastoreRoot", value=self.datastore_root)
        cdk.CfnOutput(self, "FlowName", value=graph.name)
        cdk.CfnOutput(self, "ProductionToken", value=settings.production_token or "none")

    # -- roles -----------------------------------------------------------------
    def _existing_role(self, construct_id: str, arn: str | None):
        """An existing role passed in: used as is (immutable: no policy of ours is attached)."""
        return iam.Role.from_role_arn(self, construct_id, arn, mutable=False) if arn else None

    def _job_roles(self) -> tuple[iam.IRole, iam.IRole]:
        existing_job = self._existing_role("JobRole", self.settings.job_role_arn)
        existing_execution = self._existing_role("ExecutionRole", self.settings.execution_role_arn)
        if existing_job and existing_execution:
            return existing_job, existing_execution
        job_role = existing_job or iam.Role(self, "JobRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                            description=f"Batch jobs of {self.graph.name}: its datastore prefix and "
                                        "side-channel items only")
        objects = f"arn:{self.partition}:s3:::{self.bucket}/{self.data_prefix}/*"
        job_role.add_to_principal_policy(iam.PolicyStatement(
            sid="FlowDatastoreObjects", actions=["s3:GetObject", "s3:PutObject"], resources=[objects]))
        job_role.add_to_principal_policy(iam.PolicyStatement(
            sid="FlowDatastoreListing", actions=["s3:ListBucket"],
            resources=[f"arn:{self.partition}:s3:::{self.bucket}"],
            conditions={"StringLike": {"s3:prefix": [f"{self.data_prefix}/*"]}}))
        job_role.add_to_principal_policy(iam.PolicyStatement(
            sid="FlowSideChannelItems", actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            resources=[self.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{self.graph.name}/*"]}}))
        acknowledge_nag(job_role, f"AwsSolutions-IAM5[Resource::{self._nag_arn(objects)}]",
                        "objects under this flow's own datastore prefix; artifact keys are content hashes")
        self._secret_grants(job_role)

        execution_role = existing_execution or iam.Role(self, "ExecutionRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                                  description="Batch/ECS agent: write the job's container logs")
        execution_role.add_to_principal_policy(iam.PolicyStatement(
            sid="ContainerLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[self.format_arn(service="logs", resource="log-group",
                                       resource_name=f"{BATCH_LOG_GROUP}:*",
                                       arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)]))
        acknowledge_nag(execution_role, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
                                        f"<AWS::AccountId>:log-group:{BATCH_LOG_GROUP}:*]",
                        "log streams are created per job with names not known in advance; Batch's log group only")
        image = self.settings.image
        if self._uses_runtime_image():
            # The asset's repository (cdk deploy pushes the image there): pull it, nothing else.
            self._runtime_image = runtime_image_asset(self, base_image=self.settings.base_image)
            self._runtime_image.repository.grant_pull(execution_role)
            acknowledge_nag(execution_role, "AwsSolutions-IAM5[Resource::*]",
                            "ecr:GetAuthorizationToken has no resource-level permissions")
        if ".dkr.ecr." in image:
            repo = image.split("/", 1)[1].split(":")[0].split("@")[0]
            region = image.split(".dkr.ecr.")[1].split(".")[0]
            account = image.split(".")[0]
            execution_role.add_to_principal_policy(iam.PolicyStatement(
                sid="PullImage", actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[f"arn:{self.partition}:ecr:{region}:{account}:repository/{repo}"]))
            execution_role.add_to_principal_policy(iam.PolicyStatement(
                sid="RegistryLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]))
            acknowledge_nag(execution_role, "AwsSolutions-IAM5[Resource::*]",
                            "ecr:GetAuthorizationToken has no resource-level permissions")
        return job_role, execution_role

    def _secret_grants(self, job_role) -> None:
        """@secrets: read exactly the flow's Secrets Manager secrets; assume exactly the roles
        its sources name (docs/deploy.md). An existing job role is the caller's to grant."""
        grants = secret_grants(self.graph)
        if not grants or not isinstance(job_role, iam.Role):
            return
        if grants.secrets:
            arns = []
            for ref in grants.secrets:
                arn = ref.arn_pattern() or self.format_arn(
                    service="secretsmanager", resource="secret", resource_name=f"{ref.secret_id}-??????",
                    region=ref.region or self.region, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
                arns.append(arn)
            job_role.add_to_principal_policy(iam.PolicyStatement(
                sid="FlowSecrets", actions=["secretsmanager:GetSecretValue"], resources=arns))
            for arn in arns:
                if "?" in self._nag_arn(arn) or "*" in self._nag_arn(arn):
                    acknowledge_nag(job_role, f"AwsSolutions-IAM5[Resource::{self._nag_arn(arn)}]",
                                    "one named secret: '??????' is the 6-character suffix Secrets Manager "
                                    "appends to every secret's ARN")
        if grants.roles:
            job_role.add_to_principal_policy(iam.PolicyStatement(
                sid="FlowSecretsRoles", actions=["sts:AssumeRole"], resources=list(grants.roles)))

    # -- job definitions -------------------------------------------------------
    def _uses_runtime_image(self) -> bool:
        """Whether a job definition runs the image built from runtime/Dockerfile (the default
        when no image is configured for a synth; a step's @batch(image=...) keeps its own)."""
        return any(is_runtime_image(spec.image or self.settings.image) for spec in self.build.job_specs.values())

    def _job_image(self, spec):
        """(the spec as the job definition takes it, the image): the asset's URI for RUNTIME_IMAGE."""
        if is_runtime_image(spec.image or self.settings.image):
            return dataclasses.replace(spec, image=None), self._runtime_image.image_uri
        return spec, self.settings.image

    def _job_definitions(self, job_role: iam.Role, execution_role: iam.Role) -> dict[str, str]:
        fargate = self.settings.platform.default_compute.startswith("fargate")
        code_key = f"{self.data_prefix}/code/{self.settings.code_sha256}.tar.gz"
        static_env = {
            "SFNCOMPILE_CODE_URL": f"s3://{self.bucket}/{code_key}",
            "SFNCOMPILE_CODE_SHA256": self.settings.code_sha256,
            "SFNCOMPILE_DATASTORE": self.datastore_root,
            "SFNCOMPILE_SIDE_CHANNEL": self.table,
            "SFNCOMPILE_PRODUCTION_TOKEN": self.settings.production_token,
        }
        branch = project_branch(self.project_args, self.settings)
        if branch:
            static_env[envnames.PROJECT_BRANCH] = branch  # current.branch_name in the deployment's tasks
        refs = {}
        gpu_keys = sorted(p[len("JobDefinition"):] for p, spec in self.build.job_specs.items() if spec.gpu)
        if gpu_keys and "gpu" not in self.settings.platform.compute:
            # GPU steps go to ${JobQueueGpu}, a queue of GPU instances.
            raise UserError(f"{self.graph.name}: job definition(s) {', '.join(gpu_keys)} ask for GPUs; "
                            "deploy with a GPU queue: --compute gpu (after the flow's default kind, e.g. "
                            "--compute fargate --compute gpu)")
        for placeholder, spec in sorted(self.build.job_specs.items()):
            suffix = placeholder[len("JobDefinition"):] or "Default"
            name = f"{self.deployment}-{re.sub(r'[^A-Za-z0-9_-]', '-', suffix)}"[:128]
            spec, image = self._job_image(spec)
            try:
                props = job_definition_properties(
                    spec, name=name, image=image, fargate=fargate and not spec.gpu,
                    job_role_arn=job_role.role_arn, execution_role_arn=execution_role.role_arn,
                    assign_public_ip=self.settings.platform.networking.assign_public_ip,
                    environment=static_env)
            except ValueError as exc:
                raise UserError(f"{self.graph.name}: {exc}")
            resource = cdk.CfnResource(self, f"Job{_safe(suffix)}", type="AWS::Batch::JobDefinition",
                                       properties=props)
            refs[placeholder] = resource.ref
            self.jobdef_names.append(name)
        return refs

    # -- state machine ---------------------------------------------------------
    def _state_machine(self, jobdef_refs: dict[str, str]) -> sfn.CfnStateMachine:
        build = self.build
        substitutions: dict[str, str] = {}
        for name in sorted(build.placeholders):
            if name in jobdef_refs:
                substitutions[name] = jobdef_refs[name]
            elif name == "JobQueue":
                substitutions[name] = self.queue_arn
            elif name.startswith("JobQueue"):
                kind = name[len("JobQueue"):].lower()
                substitutions[name] = job_queue_arn(self, self.settings.platform, kind)
            elif name in ("SideChannelTable", "SideChannelTableName"):
                substitutions[name] = self.table
            elif name in ("DatastoreBucket", "Bucket", "ManifestBucket", "MapResultBucket"):
                substitutions[name] = self.bucket
            elif name == "DatastoreRoot":
                substitutions[name] = self.datastore_root
            elif name == "StateMachineArn":
                substitutions[name] = self.state_machine_arn
            else:
                raise UserError(f"{self.graph.name}: the state machine needs ${{{name}}}, "
                                "which the CDK back end does not know how to fill")
        uses = definition_uses(build.definition)
        if uses.unknown:
            raise UserError(f"{self.graph.name}: the state machine calls {', '.join(sorted(uses.unknown))}, "
                            "which the CDK back end cannot grant")

        role = self._existing_role("StateMachineRole", self.settings.state_machine_role_arn) or iam.Role(
            self, "StateMachineRole", assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
                        description=f"state machine {self.deployment}: its queue, job definitions and table")
        jobdef_arns = [self.format_arn(service="batch", resource="job-definition", resource_name=f"{n}:*")
                       for n in self.jobdef_names]
        queues = [v for k, v in sorted(substitutions.items()) if k.startswith("JobQueue")] or [self.queue_arn]
        for literal in sorted(_literal_queues(build.definition)):  # @batch(queue="...") as written
            queues.append(literal if literal.startswith("arn:") else
                          self.format_arn(service="batch", resource="job-queue", resource_name=literal))
        if uses.batch or uses.batch_sync:
            role.add_to_principal_policy(iam.PolicyStatement(sid="SubmitJobs", actions=["batch:SubmitJob"],
                                                   resources=[*queues, *jobdef_arns]))
            for arn in jobdef_arns:
                acknowledge_nag(role, f"AwsSolutions-IAM5[Resource::{self._nag_arn(arn)}]",
                                "any revision of this flow's own job definition (revisions change on every deploy)")
        if uses.batch_sync:
            # The .sync integration polls the job and stops it when the state is cancelled.
            role.add_to_principal_policy(iam.PolicyStatement(sid="FollowJobs", actions=["batch:DescribeJobs"],
                                                   resources=["*"]))
            role.add_to_principal_policy(iam.PolicyStatement(
                sid="StopJobs", actions=["batch:TerminateJob"],
                resources=[self.format_arn(service="batch", resource="job", resource_name="*")]))
            role.add_to_principal_policy(iam.PolicyStatement(
                sid="JobEvents", actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[self.format_arn(service="events", resource="rule",
                                           resource_name="StepFunctionsGetEventsForBatchJobsRule")]))
            acknowledge_nag(role, "AwsSolutions-IAM5[Resource::*]",
                            "batch:DescribeJobs (used by the .sync integration) and the log-delivery and X-Ray "
                            "actions support no resource-level permissions; no data is reachable through them")
            acknowledge_nag(role, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:batch:<AWS::Region>:"
                                  "<AWS::AccountId>:job/*]",
                            "job ids are generated at submission; TerminateJob only stops jobs, reads no data")
        if uses.dynamodb_actions:
            role.add_to_principal_policy(iam.PolicyStatement(
                sid="SideChannel", actions=sorted(uses.dynamodb_actions), resources=[self.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{self.graph.name}/*"]}}))
        if uses.s3_read:
            # Foreach manifests the runtime writes under the flow's datastore prefix.
            manifests = f"arn:{self.partition}:s3:::{self.bucket}/{self.data_prefix}/*"
            role.add_to_principal_policy(iam.PolicyStatement(sid="Manifests", actions=["s3:GetObject"], resources=[manifests]))
            acknowledge_nag(role, f"AwsSolutions-IAM5[Resource::{self._nag_arn(manifests)}]",
                            "foreach manifests under this flow's own datastore prefix")
        if uses.s3_write:
            # Distributed Map ResultWriter output (discarded by the flow, but AWS writes it).
            results = f"arn:{self.partition}:s3:::{self.bucket}/sfncompile-map-results/{self.graph.name}/*"
            role.add_to_principal_policy(iam.PolicyStatement(
                sid="MapResults", actions=["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts",
                                           "s3:AbortMultipartUpload"], resources=[results]))
            acknowledge_nag(role, f"AwsSolutions-IAM5[Resource::{self._nag_arn(results)}]",
                            "Distributed Map result files of this flow only")
        if uses.distributed_map:
            role.add_to_principal_policy(iam.PolicyStatement(sid="ChildExecutions", actions=["states:StartExecution"],
                                                   resources=[self.state_machine_arn]))
            executions = self.format_arn(service="states", resource="execution",
                                         resource_name=f"{self.deployment}/*",
                                         arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
            role.add_to_principal_policy(iam.PolicyStatement(sid="ChildExecutionStatus",
                                                   actions=["states:DescribeExecution", "states:StopExecution"],
                                                   resources=[executions]))
            acknowledge_nag(role, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
                                  f"<AWS::AccountId>:execution:{self.deployment}/*]",
                            "Distributed Map child executions of this state machine only")
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="ExecutionLogs",
            actions=["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                     "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                     "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"],
            resources=["*"]))
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="Tracing", actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                                    "xray:GetSamplingTargets"], resources=["*"]))
        if not uses.batch_sync:
            acknowledge_nag(role, "AwsSolutions-IAM5[Resource::*]",
                            "the log-delivery and X-Ray actions support no resource-level permissions")
        skip_checkov(role, "CKV_AWS_111", "write actions on '*' are log delivery, X-Ray and batch:TerminateJob, "
                                          "none supports resource-level permissions or reaches data")

        log_group = logs.LogGroup(self, "ExecutionLog", log_group_name=f"/aws/vendedlogs/states/{self.deployment}",
                                  retention=_retention(self.settings.log_retention_days),
                                  removal_policy=cdk.RemovalPolicy.DESTROY)
        skip_checkov(log_group, "CKV_AWS_158", "execution events hold run ids and step names, not data; "
                                               "a customer KMS key costs $1/month per flow")
        machine = sfn.CfnStateMachine(
            self, "StateMachine",
            state_machine_name=self.deployment,
            state_machine_type="STANDARD",
            role_arn=role.role_arn,
            definition_string=build.definition_text,
            definition_substitutions=substitutions,
            logging_configuration=sfn.CfnStateMachine.LoggingConfigurationProperty(
                level="ALL", include_execution_data=False,
                destinations=[sfn.CfnStateMachine.LogDestinationProperty(
                    cloud_watch_logs_log_group=sfn.CfnStateMachine.CloudWatchLogsLogGroupProperty(
                        log_group_arn=log_group.log_group_arn))]),
            tracing_configuration=sfn.CfnStateMachine.TracingConfigurationProperty(enabled=True),
        )
        # The role's policy must exist before the state machine first runs (the role ARN alone
        # only orders the role itself).
        policy = role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            machine.node.add_dependency(policy)
        return machine

    def _nag_arn(self, arn: str) -> str:
        resolved = self.resolve(arn)
        if isinstance(resolved, dict) and "Fn::Join" in resolved:
            parts = []
            for part in resolved["Fn::Join"][1]:
                if isinstance(part, dict) and "Ref" in part:
                    parts.append(f"<{part['Ref']}>")
                else:
                    parts.append(str(part))
            return "".join(parts)
        return str(resolved)

    # -- starting executions -----------------------------------------------------
    def _start_role(self, construct_id: str, service: str) -> iam.Role:
        role = iam.Role(self, construct_id, assumed_by=iam.ServicePrincipal(
            service, conditions={"StringEquals": {"aws:SourceAccount": self.account}}))
        role.add_to_principal_policy(iam.PolicyStatement(actions=["states:StartExecution"],
                                               resources=[self.state_machine.attr_arn]))
        return role

    def _schedule(self) -> None:
        deco = self.graph.decorator("schedule")
        if not deco:
            return
        args = deco.args
        role = self._start_role("SchedulerRole", "scheduler.amazonaws.com")
        scheduler.CfnSchedule(
            self, "Schedule",
            name=self.deployment[:64],
            description=f"@schedule of {self.graph.name}",
            schedule_expression=schedule_expression(args),
            schedule_expression_timezone=args.get("timezone") or "UTC",
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.state_machine.attr_arn, role_arn=role.role_arn,
                input=json.dumps({"parameters": parameter_defaults(self.graph)}, sort_keys=True),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(maximum_retry_attempts=2)),
        )

    def _triggers(self) -> None:
        names = {p.name for p in self.graph.parameters}
        trigger = self.graph.decorator("trigger")
        if trigger:
            events = _event_specs(trigger.args)
            if len(events) > 1:
                raise UserError(f"{self.graph.name}: @trigger with several events waits for all of them; "
                                "EventBridge starts a run on any one event, so deploy one event per flow")
            event = events[0]
            mapping = event.get("parameters") or {}
            if isinstance(mapping, list):
                mapping = {name: name for name in mapping}
            unknown = sorted(set(mapping) - names)
            if unknown:
                raise UserError(f"{self.graph.name}: @trigger maps event fields to unknown parameter(s) "
                                f"{', '.join(unknown)}; parameters: {', '.join(sorted(names)) or 'none'}")
            paths = {f"p{i}": f"$.detail.{field}" for i, (_, field) in enumerate(sorted(mapping.items()))}
            body = ", ".join(f'"{param}": <p{i}>' for i, (param, _) in enumerate(sorted(mapping.items())))
            template = '{"parameters": {' + body + "}}"
            role = self._start_role("TriggerRole", "events.amazonaws.com")
            self._rule("TriggerRule", f"@trigger({event['name']}) of {self.graph.name}",
                       {"source": [self.settings.event_source], "detail-type": [event["name"]]},
                       {"Arn": self.state_machine.attr_arn, "Id": "start", "RoleArn": role.role_arn,
                        "InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}})
        on_finish = self.graph.decorator("trigger_on_finish")
        if on_finish:
            flows = list(on_finish.args.get("flows") or [])
            if on_finish.args.get("flow"):
                flows.insert(0, on_finish.args["flow"])
            if len(flows) > 1:
                raise UserError(f"{self.graph.name}: @trigger_on_finish with several flows waits for all of them; "
                                "EventBridge starts a run on any one, so deploy one upstream flow")
            upstream = flows[0] if isinstance(flows[0], str) else flows[0].get("name")
            project = self.graph.decorator("project")
            upstream_name = deployment_name(upstream.split(".")[-1], dict(project.args) if project else None,
                                            self.settings)
            upstream_arn = self.format_arn(service="states", resource="stateMachine", resource_name=upstream_name,
                                           arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
            role = self._start_role("FinishTriggerRole", "events.amazonaws.com")
            self._rule("FinishTriggerRule", f"runs {self.graph.name} when {upstream} succeeds",
                       {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
                        "detail": {"status": ["SUCCEEDED"], "stateMachineArn": [upstream_arn]}},
                       {"Arn": self.state_machine.attr_arn, "Id": "start", "RoleArn": role.role_arn,
                        "Input": json.dumps({"parameters": {}})})

    def _terminal_notifications(self) -> None:
        """Terminal states → an SNS topic (given or created). The exit-hook functions themselves run as
        Batch jobs inside the state machine; the topic also covers ABORTED/TIMED_OUT, where they cannot."""
        hook = self.graph.decorator("exit_hook")
        statuses = ["FAILED", "TIMED_OUT", "ABORTED"]
        if hook and hook.args.get("on_success"):
            statuses.append("SUCCEEDED")
        topic_arn = self.settings.notification_topic_arn
        if not topic_arn and not hook:
            return
        if not topic_arn:
            topic = sns.Topic(self, "Notifications", topic_name=f"{self.deployment}-notifications",
                              master_key=cdk.aws_kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
                              enforce_ssl=True)
            topic.add_to_resource_policy(iam.PolicyStatement(
                actions=["sns:Publish"], principals=[iam.ServicePrincipal("events.amazonaws.com")],
                resources=[topic.topic_arn]))
            topic_arn = topic.topic_arn
        self._rule("TerminalStates", f"terminal states of {self.deployment}",
                   {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
                    "detail": {"status": statuses, "stateMachineArn": [self.state_machine.attr_arn]}},
                   {"Arn": topic_arn, "Id": "notify"})

    def _rule(self, construct_id: str, description: str, pattern: dict, target: dict) -> None:
        cdk.CfnResource(self, construct_id, type="AWS::Events::Rule", properties={
            "Description": description, "EventBusName": self.settings.event_bus_name, "State": "ENABLED",
            "EventPattern": pattern, "Targets": [target]})


def _literal_queues(machine: dict[str, Any]) -> set[str]:
    """JobQueue values written literally in Task states (``@batch(queue=...)``), not placeholders."""
    found: set[str] = set()
    for state in machine.get("States", {}).values():
        queue = state.get("Parameters", {}).get("JobQueue") if state.get("Type") == "Task" else None
        if isinstance(queue, str) and not queue.startswith("${"):
            found.add(queue)
        for branch in state.get("Branches", []):
            found |= _literal_queues(branch)
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                found |= _literal_queues(state[key])
    return found


def _retention(days: int) -> logs.RetentionDays:
    for value in logs.RetentionDays:
        if value.value == days:
            return value
    return logs.RetentionDays.ONE_MONTH
