"""Create or update a CloudFormation stack through a change set, and delete one.

A change set shows what will change before anything does (``--dry-run`` stops
there); an empty change set means the stack is already what the template
says, and nothing is executed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..diagnostics import UserError
from .aws import aws_errors, error_code

TEMPLATE_BODY_LIMIT = 51_200  # bytes CloudFormation accepts inline; larger goes through S3
DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
FAILED = ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE",
          "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_FAILED")


@dataclass
class StackChange:
    action: str  # Add | Modify | Remove | Dynamic
    logical_id: str
    resource_type: str
    replacement: str = ""

    def line(self) -> str:
        marker = {"Add": "+", "Remove": "-", "Modify": "~"}.get(self.action, "?")
        extra = " (replacement)" if self.replacement == "True" else ""
        return f"  {marker} {self.resource_type} {self.logical_id}{extra}"


@dataclass
class StackResult:
    stack_name: str
    changes: list[StackChange] = field(default_factory=list)
    created: bool = False
    executed: bool = False
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def describe_stack(cfn, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if error_code(exc) == "ValidationError":
            return None
        raise
    stack = stacks[0] if stacks else None
    if stack and stack["StackStatus"] == "DELETE_COMPLETE":
        return None
    return stack


def stack_outputs(stack: dict[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


def stack_tags(stack: dict[str, Any] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (stack or {}).get("Tags", [])}


def apply_template(clients, stack_name: str, template: dict[str, Any], *, tags: dict[str, str] | None = None,
                   dry_run: bool = False, echo: Callable[[str], None] = print,
                   upload: Callable[[str, bytes], str] | None = None, poll: float = 1.0,
                   timeout: float = 3600) -> StackResult:
    """Create/update ``stack_name`` to ``template`` via a change set; returns what changed."""
    cfn = clients("cloudformation")
    started = time.perf_counter()
    with aws_errors(f"stack {stack_name}"):
        existing = describe_stack(cfn, stack_name)
        if existing and existing["StackStatus"] == "ROLLBACK_COMPLETE":
            # A stack whose creation failed cannot be updated; it holds nothing, so replace it.
            echo(f"{stack_name}: removing the failed first attempt (ROLLBACK_COMPLETE)")
            cfn.delete_stack(StackName=stack_name)
            _wait(cfn, stack_name, poll, timeout, echo, deleting=True)
            existing = None
        body = json.dumps(template, sort_keys=True)
        template_arg: dict[str, str]
        if len(body.encode()) > TEMPLATE_BODY_LIMIT:
            if upload is None:
                raise UserError(f"{stack_name}: the template is {len(body)} bytes, over CloudFormation's inline "
                                f"limit of {TEMPLATE_BODY_LIMIT}, and there is no bucket to stage it in")
            template_arg = {"TemplateURL": upload(f"templates/{stack_name}.json", body.encode())}
        else:
            template_arg = {"TemplateBody": body}
        change_set = f"sfncompile-{int(time.time() * 1000)}"
        kind = "UPDATE" if existing else "CREATE"
        cfn.create_change_set(
            StackName=stack_name, ChangeSetName=change_set, ChangeSetType=kind,
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            Tags=[{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())], **template_arg)
        try:
            description = _wait_change_set(cfn, stack_name, change_set, poll, timeout)
        except UserError as exc:
            if kind == "CREATE" and _remove_failed_create(cfn, stack_name, poll, timeout, echo):
                raise UserError(f"{exc.message}. Nothing was created: fix the template's cause and deploy again"
                                ) from None
            raise
        result = StackResult(stack_name=stack_name, created=not existing)
        if description is None:
            echo(f"{stack_name}: no changes")
            cfn.delete_change_set(StackName=stack_name, ChangeSetName=change_set)
            result.outputs = stack_outputs(existing)
            result.seconds = time.perf_counter() - started
            return result
        for change in description.get("Changes", []):
            rc = change.get("ResourceChange", {})
            result.changes.append(StackChange(rc.get("Action", "?"), rc.get("LogicalResourceId", "?"),
                                              rc.get("ResourceType", "?"), str(rc.get("Replacement", ""))))
        verb = "create" if kind == "CREATE" else "update"
        echo(f"{stack_name}: will {verb} ({len(result.changes)} resource change(s))")
        for change in sorted(result.changes, key=lambda c: (c.resource_type, c.logical_id)):
            echo(change.line())
        if dry_run:
            cfn.delete_change_set(StackName=stack_name, ChangeSetName=change_set)
            if kind == "CREATE":
                # A CREATE change set leaves an empty REVIEW_IN_PROGRESS stack behind.
                cfn.delete_stack(StackName=stack_name)
            result.seconds = time.perf_counter() - started
            return result
    try:
        with aws_errors(f"stack {stack_name}"):
            cfn.execute_change_set(StackName=stack_name, ChangeSetName=change_set)
            final = _wait(cfn, stack_name, poll, timeout, echo)
    except UserError as exc:
        if kind == "CREATE":
            removed = _remove_failed_create(cfn, stack_name, poll, timeout, echo)
            raise UserError(f"{exc.message}. " + (
                "The failed first deploy was removed (nothing is left behind): fix the cause and deploy again"
                if removed else f"Removing the failed first deploy failed too: delete it with 'aws cloudformation "
                f"delete-stack --stack-name {stack_name}' before deploying again")) from None
        raise UserError(f"{exc.message}. CloudFormation rolls a failed update back to the last working "
                        f"version; see 'aws cloudformation describe-stack-events --stack-name {stack_name}', "
                        "fix the cause and deploy again") from None
    result.executed = True
    result.outputs = stack_outputs(final)
    result.seconds = time.perf_counter() - started
    return result


def _wait_change_set(cfn, stack_name: str, change_set: str, poll: float, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while True:
        desc = cfn.describe_change_set(StackName=stack_name, ChangeSetName=change_set)
        status = desc.get("Status")
        if status == "CREATE_COMPLETE":
            if not desc.get("Changes") and desc.get("ExecutionStatus") not in ("AVAILABLE",):
                return None
            return desc
        if status == "FAILED":
            reason = desc.get("StatusReason", "")
            if "didn't contain changes" in reason or "No updates" in reason:
                return None
            raise UserError(f"{stack_name}: change set failed: {reason}")
        if time.monotonic() > deadline:
            raise UserError(f"{stack_name}: change set still {status} after {timeout:.0f}s")
        time.sleep(poll)


def _wait(cfn, stack_name: str, poll: float, timeout: float, echo, deleting: bool = False) -> dict | None:
    """Poll until the stack settles, echoing new resource events as progress."""
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    first = True
    while True:
        stack = describe_stack(cfn, stack_name)
        if stack is None:
            if deleting:
                return None
            raise UserError(f"{stack_name}: the stack disappeared")
        events = cfn.describe_stack_events(StackName=stack_name).get("StackEvents", [])
        for event in reversed(events):
            if event["EventId"] in seen:
                continue
            seen.add(event["EventId"])
            if not first and event.get("LogicalResourceId") != stack_name:
                echo(f"  {event.get('ResourceStatus', '')} {event.get('ResourceType', '')} "
                     f"{event.get('LogicalResourceId', '')} {event.get('ResourceStatusReason') or ''}".rstrip())
        first = False
        status = stack["StackStatus"]
        if deleting and status == "DELETE_COMPLETE":
            return None
        if not deleting and status in DONE:
            echo(f"{stack_name}: {status}")
            return stack
        if status in FAILED and not (deleting and status != "DELETE_FAILED"):
            reasons = [f"{e.get('LogicalResourceId')} ({e.get('ResourceType')}): {e.get('ResourceStatusReason')}"
                       for e in events if "FAILED" in e.get("ResourceStatus", "") and e.get("ResourceStatusReason")
                       and e.get("LogicalResourceId") != stack_name]
            why = next(iter(reasons), status)
            raise UserError(f"{stack_name}: {status}: {why}")
        if time.monotonic() > deadline:
            raise UserError(f"{stack_name}: still {status} after {timeout:.0f}s")
        time.sleep(poll)


def _remove_failed_create(cfn, stack_name: str, poll: float, timeout: float, echo) -> bool:
    """Delete what a failed first deploy left (REVIEW_IN_PROGRESS, ROLLBACK_COMPLETE...): it holds
    nothing worth keeping, and it would block the next deploy. True when it is gone."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if describe_stack(cfn, stack_name) is None:
            return True
        echo(f"{stack_name}: removing the failed first deploy")
        cfn.delete_stack(StackName=stack_name)
        _wait(cfn, stack_name, poll, timeout, echo, deleting=True)
        return True
    except (UserError, ClientError, BotoCoreError, Exception):
        return False


def delete_stack(clients, stack_name: str, *, echo=print, poll: float = 1.0, timeout: float = 3600) -> bool:
    cfn = clients("cloudformation")
    with aws_errors(f"stack {stack_name}"):
        if describe_stack(cfn, stack_name) is None:
            return False
        cfn.delete_stack(StackName=stack_name)
        _wait(cfn, stack_name, poll, timeout, echo, deleting=True)
        return True
