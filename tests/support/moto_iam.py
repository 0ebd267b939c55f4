"""Test support: moto enforces IAM, and every caller signs as the principal AWS would use.

moto checks a request's signature and the signer's policies once its access-control mode is on
(``POST /moto-api/reset-auth`` with the number of requests still let through, 0 here). Then:

* the test process (deploy, trigger, client reads) signs as an IAM user allowed everything;
* each Batch job (``tests.support.moto_batch`` runs it as a local process) gets the temporary
  credentials of its job definition's ``jobRoleArn`` — the job role of our synthesised template,
  created by CloudFormation in moto's IAM with the template's policies;
* moto's Step Functions interpreter, which signs every service call as ``ak``/``sk``
  (``moto/stepfunctions/parser/asl/utils/boto_client.py``), signs with the credentials of the
  execution's role (the state machine's ``RoleArn``, which it already passes along as
  ``state_credentials``).

A role's session is issued by moto's STS backend directly (in process): AWS services assume a
role through their service principal (``ecs-tasks``/``states.amazonaws.com``), which no signed
``sts:AssumeRole`` call can reproduce — moto checks the trust policy against the caller and no
test principal is ``ecs-tasks.amazonaws.com``.

What moto 5.2.5 evaluates (``moto/iam/access_control.py``), and so what these tests prove:

* S3: action and resource (``arn:aws:s3:::bucket`` / ``arn:aws:s3:::bucket/key``): prefix scoping is
  enforced for objects;
* every other service: moto passes the resource ``"*"`` unless the service's response class has a
  ``_determine_resource`` (only SQS, IAM and STS do), so a statement naming a resource never matches.
  We add one for DynamoDB (the table ARN) and Step Functions (the state machine / execution ARN),
  and otherwise let a statement's ``Resource`` match moto's unknown ``"*"``: Batch, Secrets
  Manager, CloudWatch Logs, EventBridge and SNS calls are checked by action only;
* conditions: only ``StringEquals`` is evaluated (``moto/iam/policy_conditions.py``) and only with the
  request values of ``sts:AssumeRole``; every other operator is ignored. So the ``s3:prefix``
  condition of ``s3:ListBucket`` and the ``dynamodb:LeadingKeys`` condition of the side-channel
  items are NOT enforced here (a job listing another flow's prefix, or reading another flow's
  side-channel items, would pass). The mirror test reads objects, which is enforced.
* resource-based policies (bucket policies, the SNS topic policy) are not evaluated.

Never imported by the product.
"""

from __future__ import annotations

import json
import os
import urllib.request
from contextlib import contextmanager

ACCOUNT = "123456789012"
ADMIN_USER = "sfncompile-test-admin"
_installed = False
_enforcing = False


def _sts_backend():
    from moto.sts.models import sts_backends

    return sts_backends[ACCOUNT]["aws"]


def role_credentials(role_arn: str, session: str = "sfncompile-test") -> dict[str, str]:
    """Temporary credentials of ``role_arn``, issued by moto's STS as a service principal would get them."""
    assumed = _sts_backend().assume_role(region_name="us-east-1", role_session_name=session[:64],
                                         role_arn=role_arn, policy=None, duration=3600, external_id=None)
    return {"AWS_ACCESS_KEY_ID": assumed.access_key_id, "AWS_SECRET_ACCESS_KEY": assumed.secret_access_key,
            "AWS_SESSION_TOKEN": assumed.session_token}


def job_credentials(job) -> dict[str, str] | None:
    """The credentials a Batch job runs with while enforcement is on (its job definition's job role)."""
    if not _enforcing:
        return None
    role = (job.job_definition.container_properties or {}).get("jobRoleArn")
    if not role:
        raise RuntimeError(f"job {job.job_name}: its job definition has no jobRoleArn")
    return role_credentials(role, session=f"batch-{job.job_id}")


def _post(server, path: str, body: bytes) -> None:
    # text/plain: werkzeug would parse a form body away from the ``request.data`` moto reads.
    req = urllib.request.Request(server.endpoint + path, data=body, method="POST",
                                 headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req, timeout=10).read()


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    import sys

    import boto3
    from botocore.config import Config

    import moto.stepfunctions.parser.asl.utils.boto_client as boto_client_module
    from moto.dynamodb.responses import DynamoHandler
    from moto.iam.access_control import IAMPolicyStatement
    from moto.settings import moto_server_port
    from moto.stepfunctions.responses import StepFunctionResponse

    original = boto_client_module.boto_client_for

    def boto_client_for(region, service, state_credentials=None):
        if not _enforcing:
            return original(region, service, state_credentials)
        if state_credentials is None or not getattr(state_credentials, "role_arn", None):
            raise RuntimeError(f"Step Functions {service} call without the execution's role")
        creds = role_credentials(state_credentials.role_arn, session="states")
        return boto3.client(service, region_name=region, endpoint_url=f"http://localhost:{moto_server_port()}",
                            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=creds["AWS_SESSION_TOKEN"],
                            config=Config(parameter_validation=False,
                                          retries={"max_attempts": 0, "total_max_attempts": 1}))

    # Every interpreter module imported the function by name: replace it where it is used.
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch  # noqa: F401
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb  # noqa: F401
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn  # noqa: F401
    import moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3  # noqa: F401
    import moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3  # noqa: F401
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = boto_client_for

    def json_body(response) -> dict:
        body = response.body
        if isinstance(body, dict):  # DynamoDB's handler has parsed it already
            return body
        try:
            parsed = json.loads(body or "{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def dynamodb_resource(self) -> str:
        table = json_body(self).get("TableName")
        return f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{table}" if table else "*"

    def states_resource(self) -> str:
        body = json_body(self)
        return body.get("stateMachineArn") or body.get("executionArn") or "*"

    DynamoHandler._determine_resource = dynamodb_resource
    StepFunctionResponse._determine_resource = states_resource

    matches = IAMPolicyStatement._check_element_matches

    def check_element_matches(self, element, value):
        # moto passes "*" when it cannot tell a request's resource: check such requests by action only.
        if element == "Resource" and value == "*":
            return True
        if element in ("Action", "NotAction"):
            # AWS matches actions case-insensitively; moto's Batch names them in lower case (batch:submitjob).
            listed = self._statement[element]
            listed = [listed] if isinstance(listed, str) else listed
            return any(self._match(pattern.lower(), value.lower()) for pattern in listed)
        return matches(self, element, value)

    IAMPolicyStatement._check_element_matches = check_element_matches


def _forget_clients() -> None:
    """Clients made before the credentials changed keep the old ones: boto3's default session and the
    runtime's per-process clients (the client API and trigger run in the test process)."""
    import boto3

    from sfncompile_runtime import aws

    boto3.DEFAULT_SESSION = None
    aws._clients.clear()


@contextmanager
def enforcing(server):
    """moto enforces IAM; the test process signs as an administrator user; jobs and executions as their roles."""
    global _enforcing
    import boto3

    install()
    iam = boto3.client("iam", endpoint_url=server.endpoint)
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(UserName=ADMIN_USER, PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    os.environ["AWS_ACCESS_KEY_ID"] = key["AccessKeyId"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = key["SecretAccessKey"]
    os.environ.pop("AWS_SESSION_TOKEN", None)
    _forget_clients()
    _post(server, "/moto-api/reset-auth", b"0")
    _enforcing = True
    try:
        yield key
    finally:
        _enforcing = False
        _post(server, "/moto-api/reset-auth", b"inf")
        _forget_clients()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
