"""The shared decorator table: the same checks serve lint and the container."""

from __future__ import annotations

import pytest

from sfncompile_runtime import decorator_specs as specs


@pytest.mark.parametrize("expr", [
    "0 3 * * ? *", "30 3 * * ? *", "0/15 * * * ? *", "0 8 ? * MON-FRI *", "0 8 ? * 2#1 *",
    "0 0 L * ? *", "0 0 15W * ? *", "0 0 1 JAN,jul ? 2025-2030", "0 0 ? * 6L *", "5,35 14 * * ? *",
    "0 12 1-7/2 * ? *", "0 0 LW * ? *",
])
def test_valid_crons(expr):
    assert specs.cron_error(expr) is None


@pytest.mark.parametrize("expr, fragment", [
    ("0 3 * * *", "has 5 fields"),
    ("0 3 * * ? * *", "has 7 fields"),
    ("0 24 * * ? *", "hours value 24 is out of range 0-23"),
    ("60 0 * * ? *", "minutes value 60"),
    ("0 0 32 * ? *", "day-of-month value 32"),
    ("0 0 ? 13 MON *", "month value 13"),
    ("0 0 ? * 8 *", "day-of-week value 8"),
    ("0 0 1 * ? 1969", "year value 1969"),
    ("0 0 * * * *", "exactly one of day-of-month and day-of-week"),
    ("0 0 ? * ? *", "exactly one of day-of-month and day-of-week"),
    ("0 ? * * ? *", "only allowed in day-of-month or day-of-week"),
    ("x 0 * * ? *", "'x' is not a valid minutes value"),
    ("0 0 * */0 ? *", "increment after '/'"),
    ("0 0 ? * MON#6 *", "week number"),
    ("0 0 ? * FOO *", "not a valid day-of-week value"),
    ("0 0,, * * ? *", "empty item"),
])
def test_invalid_crons(expr, fragment):
    err = specs.cron_error(expr)
    assert err is not None and fragment in err


def test_cron_must_be_a_string():
    assert "must be a string" in specs.cron_error(5)


@pytest.mark.parametrize("tz, ok", [("UTC", True), ("Europe/Paris", True), ("America/New_York", True),
                                    ("Paris/France", False), ("", False), ("../etc/passwd", False), (3, False)])
def test_timezones(tz, ok):
    assert (specs.timezone_error(tz) is None) is ok


@pytest.mark.parametrize("name, args, level, fragment", [
    ("resources", {"cpu": 0}, "step", "greater than 0"),
    ("resources", {"memory": -1}, "step", "greater than 0"),
    ("resources", {"gpu": -1}, "step", "whole number >= 0"),
    ("resources", {"gpu": 1.5}, "step", "whole number >= 0"),
    ("batch", {"cpu": "many"}, "step", "positive number"),
    ("retry", {"times": 5}, "step", "between 0 and 4"),
    ("retry", {"times": True}, "step", "integer between 0 and 4"),
    ("retry", {"minutes_between_retries": -1}, "step", ">= 0"),
    ("timeout", {}, "step", "greater than 0"),
    ("timeout", {"seconds": 0, "minutes": 0}, "step", "greater than 0"),
    ("timeout", {"hours": -1}, "step", ">= 0"),
    ("catch", {"var": "name"}, "step", "reserved"),
    ("catch", {"var": "not an identifier"}, "step", "identifier"),
    ("environment", {"vars": {"A-B": "1"}}, "step", "not a valid environment variable name"),
    ("environment", {"vars": ["A"]}, "step", "dict of strings"),
    ("schedule", {"cron": "0 3 * * *"}, "flow", "5 fields"),
    ("schedule", {"hourly": True, "weekly": True}, "flow", "only one of"),
    ("schedule", {"timezone": "Europe/Paris"}, "flow", "cron= schedule only"),
    ("schedule", {"cron": "0 3 * * ? *", "timezone": "Mars/Olympus"}, "flow", "IANA"),
    ("project", {"name": "Bad Name"}, "flow", "lowercase"),
    ("trigger", {}, "flow", "event"),
    ("trigger_on_finish", {}, "flow", "upstream flow"),
    ("retry", {"times": 1}, "flow", "not allowed on a flow"),
    ("schedule", {"daily": True}, "step", "not allowed on a step"),
    ("magic", {}, "step", "unknown step decorator"),
    ("retry", {"tiems": 1}, "step", "no argument 'tiems'"),
])
def test_validate_problems(name, args, level, fragment):
    problems = specs.validate(name, args, level)
    assert problems and any(fragment in message for _, message in problems), problems


@pytest.mark.parametrize("name, args, level", [
    ("resources", {"cpu": 0.5, "memory": 1024, "gpu": 0}, "step"),
    ("batch", {"cpu": "2", "memory": 4096, "image": "python:3.11", "queue": "q"}, "step"),
    ("retry", {"times": 0}, "step"),
    ("retry", {"times": 4, "minutes_between_retries": 0}, "step"),
    ("timeout", {"minutes": 5}, "step"),
    ("catch", {"var": "failure"}, "step"),
    ("environment", {"vars": {"A_B": "1", "N": 3}}, "step"),
    ("schedule", {}, "flow"),
    ("schedule", {"hourly": True}, "flow"),
    ("schedule", {"cron": "0 3 * * ? *", "timezone": "Europe/Paris"}, "flow"),
    ("project", {"name": "fraud_model"}, "flow"),
    ("trigger", {"event": "data_ready"}, "flow"),
    ("trigger", {"events": ["a", {"name": "b", "parameters": {"x": "y"}}]}, "flow"),
    ("trigger_on_finish", {"flow": "Upstream"}, "flow"),
    ("pypi", {"packages": {"pandas": "2.2.0"}, "python": "3.11"}, "step"),
    ("conda_base", {"libraries": {"numpy": "1.26"}}, "flow"),
])
def test_validate_accepts(name, args, level):
    assert specs.validate(name, args, level) == []


def test_timeout_seconds_and_defaults():
    assert specs.timeout_seconds({"minutes": 2, "seconds": 5}) == 125
    assert specs.with_defaults("retry", {})["times"] == 3


@pytest.mark.parametrize("name, args", [("timeout", {"minutes": "5"}), ("retry", {"times": "2"}),
                                        ("resources", {"memory": "2048", "cpu": "2"})])
def test_numeric_strings_are_accepted_as_metaflow_does(name, args):
    assert specs.validate(name, args) == []
