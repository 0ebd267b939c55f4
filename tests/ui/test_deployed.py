"""The deployment part of a flow's page: schedule and triggers from the graph, console links."""

from __future__ import annotations

from sfncompile.ui import deployed


def test_schedule_and_triggers_are_listed_escaped():
    graph = {"decorators": [{"name": "schedule", "args": {"cron": "0 3 * * ? *", "timezone": "Europe/Paris"}},
                            {"name": "trigger", "args": {"events": ["data_ready", {"name": "<b>other</b>"}]}},
                            {"name": "trigger_on_finish", "args": {"flow": "Upstream"}}]}
    assert deployed.triggers_of(graph) == ["schedule: 0 3 * * ? * (Europe/Paris)",
                                           "trigger on event: data_ready, <b>other</b>",
                                           "trigger on finish of: Upstream"]
    html = deployed.deployment_section("F", graph)
    assert "&lt;b&gt;other&lt;/b&gt;" in html and "<b>" not in html
    assert deployed.deployment_section("F", {"decorators": []}) == ""


def test_console_link_names_the_execution():
    arn = "arn:aws:states:eu-west-1:123456789012:execution:F:run-1"
    assert deployed.console_link("eu-west-1", arn) == (
        "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/" + arn)
