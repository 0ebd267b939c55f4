"""Test support: EventBridge rules that start Step Functions executions.

moto 5.2 delivers rule targets to CloudWatch Logs, SQS, archives and buses
only; a Step Functions target raises ``NotImplementedError``. Its input
transformer also pastes string values into a JSON template without quotes,
where EventBridge inserts them as JSON strings. This patch starts the
execution for ``states`` targets, with the input built the EventBridge way
(each ``<name>`` outside quotes becomes the JSON value, a missing path
``null``), and leaves every other target to moto. Never imported by the product.
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
        others = [t for t in self.targets if t not in states]
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
