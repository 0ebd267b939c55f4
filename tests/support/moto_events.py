"""Test support: EventBridge rules that start Step Functions executions.

moto 5.2 delivers rule targets to CloudWatch Logs, SQS, archives and buses
only; a Step Functions target raises ``NotImplementedError``. Its input
transformer also pastes string values into a JSON template without quotes,
where EventBridge inserts them as JSON strings. This patch starts the
execution for ``states`` targets, with the input built the EventBridge way
(each ``<name>`` outside quotes becomes the JSON value, a missing path
``null``), publishes to SNS topic targets, and leaves every other target to
moto. moto's Step Functions also never emits "Step Functions Execution Status
Change" events; ``install()`` makes a finished execution put one on the
default bus, so ``@trigger_on_finish`` and terminal-state rules fire.
Never imported by the product.
"""

from __future__ import annotations

import json
import uuid

_installed = False


def render_input(target: dict, event: dict) -> str:
    transformer = target.get("InputTransformer")
    if not transformer:
        return target.get("Input") or json.dumps(event)
    from jsonpath_ng.ext import parse

    text = transformer["InputTemplate"]
    for name, path in transformer.get("InputPathsMap", {}).items():
        found = parse(path).find(event)
        text = text.replace(f"<{name}>", json.dumps(found[0].value) if found else "null")
    return text


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    from moto.events import models as events_models
    from moto.utilities.arns import parse_arn

    original = events_models.Rule.send_to_targets

    def send_to_targets(self, original_event, transform_input: bool = True):
        if not self.event_pattern.matches_event(original_event):
            return
        states = [t for t in self.targets if parse_arn(t["Arn"]).service == "states"]
        topics = [t for t in self.targets if parse_arn(t["Arn"]).service == "sns"]
        others = [t for t in self.targets if t not in states and t not in topics]
        for target in topics:
            from moto.sns.models import sns_backends

            sns_backends[self.account_id][self.region_name].publish(
                render_input(target, original_event), arn=target["Arn"])
        for target in states:
            from moto.stepfunctions.responses import get_backend

            backend = get_backend(self.account_id, self.region_name)
            backend.start_execution(target["Arn"], name=str(uuid.uuid4()),
                                    execution_input=render_input(target, original_event))
        if others:
            saved = self.targets
            self.targets = others
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = saved

    events_models.Rule.send_to_targets = send_to_targets

    from moto.stepfunctions.parser.backend import execution as parser_execution

    original_terminated = parser_execution.BaseExecutionWorkerCommunication.terminated

    def terminated(self) -> None:
        original_terminated(self)
        execution = self.execution
        detail = {"executionArn": execution.exec_arn, "stateMachineArn": execution.state_machine_arn,
                  "name": execution.name, "status": execution.exec_status.value,
                  "input": json.dumps(execution.input_data)}
        backend = events_models.events_backends[execution.account_id][execution.region_name]
        backend.put_events([{"Source": "aws.states", "DetailType": "Step Functions Execution Status Change",
                             "Detail": json.dumps(detail), "Resources": [execution.exec_arn]}])

    parser_execution.BaseExecutionWorkerCommunication.terminated = terminated
