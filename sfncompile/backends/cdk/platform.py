"""The platform stack: what many flows share.

S3 bucket (datastore), DynamoDB side-channel table, Batch compute
environments and job queues, and networking when none is given. Anything
passed in ``PlatformSettings`` (an existing bucket, table, queue, subnets) is
used instead of being created. Only L1 networking constructs are used: the
``ec2.Vpc`` L2 adds a custom resource (a Lambda asset) and AZ lookups, and
this stack must synthesise offline and deploy without ``cdk bootstrap``.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .findings import acknowledge_nag, skip_checkov
from .settings import PlatformSettings

SIDE_CHANNEL_TTL_ATTRIBUTE = "expires_at"


def bucket_name(stack: cdk.Stack, settings: PlatformSettings) -> str:
    """The datastore bucket's name (a token resolved at deploy time when created)."""
    if settings.bucket_name:
        return settings.bucket_name
    return f"{settings.prefix}-{stack.account}-{stack.region}"


def table_name(settings: PlatformSettings) -> str:
    return settings.table_name or settings.created_table_name


def job_queue_arn(stack: cdk.Stack, settings: PlatformSettings, kind: str | None = None) -> str:
    if settings.job_queue_arn and kind in (None, settings.default_compute):
        if settings.job_queue_arn.startswith("arn:"):
            return settings.job_queue_arn
        return stack.format_arn(service="batch", resource="job-queue", resource_name=settings.job_queue_arn)
    return stack.format_arn(service="batch", resource="job-queue", resource_name=settings.queue_name(kind))


class PlatformStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: PlatformSettings, **kwargs):
        super().__init__(scope, construct_id, stack_name=settings.platform_stack_name,
                         description="sfncompile platform: datastore bucket, side-channel table, Batch queues",
                         **kwargs)
        self.settings = settings
        if not settings.bucket_name:
            self._bucket()
        if not settings.table_name:
            self._table()
        if not settings.job_queue_arn:
            subnets, groups = self._networking()
            for kind in settings.compute:
                self._queue(kind, subnets, groups)
        cdk.CfnOutput(self, "BucketName", value=bucket_name(self, settings))
        cdk.CfnOutput(self, "TableName", value=table_name(settings))
        cdk.CfnOutput(self, "JobQueueArn", value=job_queue_arn(self, settings))

    # -- datastore -----------------------------------------------------------
    def _bucket(self) -> None:
        s = self.settings
        logs = s3.Bucket(
            self, "AccessLogs",
            bucket_name=f"{s.prefix}-logs-{self.account}-{self.region}",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(90),
                                              noncurrent_version_expiration=cdk.Duration.days(1))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge_nag(logs, "AwsSolutions-S1", "this is the access-log bucket itself; logging it would recurse")
        skip_checkov(logs, "CKV_AWS_18", "this is the access-log bucket itself; logging it would recurse")
        skip_checkov(logs, "CKV_AWS_21", "versioning is enabled (checkov misreads the L2 output)")
        self.bucket = s3.Bucket(
            self, "Datastore",
            bucket_name=bucket_name(self, s),
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=logs,
            server_access_logs_prefix="datastore/",
            lifecycle_rules=[
                s3.LifecycleRule(id="temporary-objects", prefix=s.temp_prefix,
                                 expiration=cdk.Duration.days(s.temp_expiry_days)),
                s3.LifecycleRule(id="old-versions",
                                 noncurrent_version_expiration=cdk.Duration.days(s.noncurrent_expiry_days),
                                 abort_incomplete_multipart_upload_after=cdk.Duration.days(7)),
            ],
            # Artifacts are the users' results: never delete them with the stack.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _table(self) -> None:
        self.table = dynamodb.Table(
            self, "SideChannel",
            table_name=table_name(self.settings),
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=SIDE_CHANNEL_TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # Items are transient (30-day TTL) control values, not results.
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        skip_checkov(self.table, "CKV_AWS_119",
                     "encrypted with the AWS-managed key; a customer key costs $1/month and adds nothing for "
                     "transient control values")

    # -- compute -------------------------------------------------------------
    def _networking(self) -> tuple[list[str], list[str]]:
        net = self.settings.networking
        if net.imported:
            groups = list(net.security_group_ids)
            if not groups:
                if not net.vpc_id:
                    raise ValueError("imported subnets need security_group_ids or vpc_id")
                groups = [self._security_group(net.vpc_id)]
            return list(net.subnet_ids), groups
        # A small VPC: two public subnets and no NAT gateway (a NAT gateway costs ~$32/month);
        # Fargate tasks get a public IP to reach S3, DynamoDB and the image registry.
        vpc = ec2.CfnVPC(self, "Vpc", cidr_block="10.42.0.0/16", enable_dns_hostnames=True,
                         enable_dns_support=True,
                         tags=[cdk.CfnTag(key="Name", value=f"{self.settings.prefix}-vpc")])
        gateway = ec2.CfnInternetGateway(self, "InternetGateway")
        attach = ec2.CfnVPCGatewayAttachment(self, "GatewayAttachment", vpc_id=vpc.ref,
                                             internet_gateway_id=gateway.ref)
        routes = ec2.CfnRouteTable(self, "PublicRoutes", vpc_id=vpc.ref)
        default_route = ec2.CfnRoute(self, "DefaultRoute", route_table_id=routes.ref,
                                     destination_cidr_block="0.0.0.0/0", gateway_id=gateway.ref)
        default_route.node.add_dependency(attach)
        subnets = []
        for index in range(2):
            subnet = ec2.CfnSubnet(self, f"PublicSubnet{index + 1}", vpc_id=vpc.ref,
                                   cidr_block=f"10.42.{index * 64}.0/18",
                                   availability_zone=cdk.Fn.select(index, cdk.Fn.get_azs()),
                                   map_public_ip_on_launch=False)
            ec2.CfnSubnetRouteTableAssociation(self, f"PublicSubnet{index + 1}Routes", subnet_id=subnet.ref,
                                               route_table_id=routes.ref)
            subnets.append(subnet.ref)
        log_group = cdk.aws_logs.CfnLogGroup(self, "FlowLogs", retention_in_days=30)
        skip_checkov(log_group, "CKV_AWS_158", "flow logs hold no secrets; a customer KMS key costs $1/month")
        flow_log_role = iam.Role(self, "FlowLogRole", assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"))
        flow_log_role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[log_group.attr_arn, f"{log_group.attr_arn}:*"]))
        acknowledge_nag(flow_log_role, "AwsSolutions-IAM5[Resource::<FlowLogs.Arn>:*]",
                        "log streams of the VPC's own flow-log group only")
        ec2.CfnFlowLog(self, "FlowLog", resource_id=vpc.ref, resource_type="VPC", traffic_type="REJECT",
                       log_group_name=log_group.ref, deliver_logs_permission_arn=flow_log_role.role_arn)
        return subnets, [self._security_group(vpc.ref)]

    def _security_group(self, vpc_id: str) -> str:
        group = ec2.CfnSecurityGroup(
            self, "BatchSecurityGroup", vpc_id=vpc_id,
            group_description="sfncompile Batch jobs: no inbound traffic, outbound HTTPS",
            security_group_egress=[ec2.CfnSecurityGroup.EgressProperty(
                ip_protocol="tcp", from_port=443, to_port=443, cidr_ip="0.0.0.0/0",
                description="HTTPS to S3, DynamoDB, the image registry and CloudWatch")])
        return group.attr_group_id

    def _queue(self, kind: str, subnets: list[str], groups: list[str]) -> None:
        s = self.settings
        name = s.queue_name(kind)
        resources = {"MaxvCpus": s.max_vcpus, "Subnets": subnets, "SecurityGroupIds": groups}
        if kind in ("fargate", "fargate_spot"):
            resources["Type"] = "FARGATE" if kind == "fargate" else "FARGATE_SPOT"
        else:
            resources.update({
                "Type": "SPOT" if kind == "spot" else "EC2",
                "MinvCpus": 0,
                "InstanceTypes": ["g4dn", "g5"] if kind == "gpu" else ["optimal"],
                "InstanceRole": self._instance_profile(),
                "AllocationStrategy": ("SPOT_PRICE_CAPACITY_OPTIMIZED" if kind == "spot"
                                       else "BEST_FIT_PROGRESSIVE"),
            })
            if kind == "gpu":
                resources["Ec2Configuration"] = [{"ImageType": "ECS_AL2_NVIDIA"}]
        # No ServiceRole: Batch then uses its service-linked role, which needs nothing from us.
        environment = cdk.CfnResource(self, f"Compute{kind.title().replace('_', '')}",
                                      type="AWS::Batch::ComputeEnvironment",
                                      properties={"Type": "MANAGED", "State": "ENABLED",
                                                  "ComputeEnvironmentName": name, "ComputeResources": resources})
        cdk.CfnResource(self, f"Queue{kind.title().replace('_', '')}", type="AWS::Batch::JobQueue",
                        properties={"JobQueueName": name, "Priority": 1, "State": "ENABLED",
                                    "ComputeEnvironmentOrder": [{"Order": 1,
                                                                 "ComputeEnvironment": environment.ref}]})

    def _instance_profile(self) -> str:
        if getattr(self, "_profile_arn", None):
            return self._profile_arn
        role = iam.Role(self, "InstanceRole", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
                        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                            "service-role/AmazonEC2ContainerServiceforEC2Role")])
        acknowledge_nag(role, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                              "AmazonEC2ContainerServiceforEC2Role]",
                        "the ECS agent on Batch EC2 instances needs exactly this AWS-maintained policy")
        profile = iam.CfnInstanceProfile(self, "InstanceProfile", roles=[role.role_name])
        self._profile_arn = profile.attr_arn
        return self._profile_arn
