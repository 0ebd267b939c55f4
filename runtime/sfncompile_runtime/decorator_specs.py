"""What each decorator accepts: one table shared by the authoring API (which
validates at import time inside the container) and the compiler's lint (which
validates statically, with positions). Standard library only.

``validate(name, args)`` returns a list of ``(argument or None, message)``;
messages say what is wrong and what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .graphinfo import timeout_seconds

STEP = "step"
FLOW = "flow"

# Attributes a flow has on its own: an artifact or parameter of the same name
# would shadow them (``self.name = ...`` breaks the runtime and the client).
RESERVED_ATTRIBUTES = frozenset({
    "name", "next", "input", "index", "inputs", "cmd", "foreach_stack", "merge_artifacts",
    "script_name",
})


@dataclass(frozen=True)
class DecoratorSpec:
    name: str
    levels: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)
    # argument -> checker(value) -> error message or None
    checks: dict[str, Callable[[Any], str | None]] = field(default_factory=dict)
    # whole-decorator check (cross-argument rules)
    check_all: Callable[[dict[str, Any]], list[tuple[str | None, str]]] | None = None


def _positive_number(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return f"must be a positive number, got {value!r}"
    try:
        number = float(value)
    except ValueError:
        return f"must be a positive number, got {value!r}"
    return None if number > 0 else f"must be greater than 0, got {value!r}"


def _non_negative_number(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return f"must be a number >= 0, got {value!r}"
    try:
        number = float(value)
    except ValueError:
        return f"must be a number >= 0, got {value!r}"
    return None if number >= 0 else f"must be >= 0, got {value!r}"


def _int_between(lo, hi):
    def check(value):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)  # Metaflow reads these with int(), so "3" is accepted
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer between {lo} and {hi}, got {value!r}"
        if not lo <= value <= hi:
            return f"must be between {lo} and {hi}, got {value}"
        return None
    return check


def _instance(kind, what):
    def check(value):
        if value is None or isinstance(value, kind):
            return None
        return f"must be {what}, got {type(value).__name__} {value!r}"
    return check


def _identifier(value):
    if value is None:
        return None
    if not isinstance(value, str) or not value.isidentifier():
        return f"must be an artifact name (a Python identifier), got {value!r}"
    if value in RESERVED_ATTRIBUTES:
        return f"{value!r} is reserved by the flow; choose another artifact name"
    return None


def _non_negative_int(value):
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return None  # Metaflow reads it with int()
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return f"must be a whole number >= 0, got {value!r}"
    return None


def _bool(value):
    return None if value is None or isinstance(value, bool) else f"must be True or False, got {value!r}"


def _str_map(value):
    if not isinstance(value, dict):
        return f"must be a dict of strings, got {type(value).__name__}"
    for key, val in value.items():
        if not isinstance(key, str) or not isinstance(val, (str, int, float, bool)):
            return f"must map names to string values; {key!r}: {val!r} is not"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            return f"{key!r} is not a valid environment variable name"
    return None


def _packages(value):
    if not isinstance(value, dict):
        return f"must be a dict of package name to version, got {type(value).__name__}"
    for key, val in value.items():
        if not isinstance(key, str) or not isinstance(val, str):
            return f"must map package names to version strings; {key!r}: {val!r} is not"
    return None


# -- schedules --------------------------------------------------------------

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}

# (name, lowest, highest, names) for EventBridge's six fields, in order.
_CRON_FIELDS = (
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, {}),
)
_CRON_EXAMPLE = "e.g. '0 3 * * ? *' for 03:00 every day"


def _cron_value(text, lo, hi, names, field_name):
    """One value of a cron field (a number or a name); an error string or None."""
    upper = text.upper()
    if upper in names:
        return None
    if not text.isdigit():
        return f"{text!r} is not a valid {field_name} value"
    if not lo <= int(text) <= hi:
        return f"{field_name} value {text} is out of range {lo}-{hi}"
    return None


def _cron_item(item, index):
    """One comma-separated item of field ``index``; an error string or None."""
    field_name, lo, hi, names = _CRON_FIELDS[index]
    upper = item.upper()
    if upper == "*":
        return None
    if upper == "?":
        return None if index in (2, 4) else f"'?' is only allowed in day-of-month or day-of-week, not {field_name}"
    if index == 2 and upper in ("L", "LW"):
        return None
    if index == 2 and upper.endswith("W"):
        return _cron_value(item[:-1], lo, hi, names, field_name)
    if index == 4 and upper == "L":
        return None
    if index == 4 and upper.endswith("L"):
        return _cron_value(item[:-1], lo, hi, names, field_name)
    if index == 4 and "#" in item:
        day, _, nth = item.partition("#")
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            return f"{item!r}: the week number after '#' must be 1-5"
        return _cron_value(day, lo, hi, names, field_name)
    base, slash, step = item.partition("/")
    if slash:
        if not step.isdigit() or int(step) == 0:
            return f"{item!r}: the increment after '/' must be a positive number"
        if base == "*":
            return None
    if "-" in base:
        first, _, last = base.partition("-")
        for part in (first, last):
            err = _cron_value(part, lo, hi, names, field_name)
            if err:
                return err
        return None
    return _cron_value(base, lo, hi, names, field_name)


def cron_error(expr: str) -> str | None:
    """EventBridge's 6-field cron: minutes hours day-of-month month day-of-week year."""
    if not isinstance(expr, str):
        return f"must be a string, got {expr!r}"
    fields = expr.split()
    if len(fields) == 5:
        return (f"{expr!r} has 5 fields; EventBridge cron has 6 (minutes hours day-of-month month "
                f"day-of-week year) and needs '?' in one of the day fields: {_CRON_EXAMPLE}")
    if len(fields) != 6:
        return (f"{expr!r} has {len(fields)} fields; EventBridge cron needs 6 "
                f"(minutes hours day-of-month month day-of-week year), {_CRON_EXAMPLE}")
    for index, text in enumerate(fields):
        for item in text.split(","):
            err = _cron_item(item, index) if item else f"field {_CRON_FIELDS[index][0]} has an empty item"
            if err:
                return f"{expr!r}: {err}"
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        return (f"{expr!r}: exactly one of day-of-month and day-of-week must be '?' "
                f"(EventBridge rule), {_CRON_EXAMPLE}")
    return None


def timezone_error(name: str) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str):
        return f"must be an IANA timezone name such as 'Europe/Paris', got {name!r}"
    try:
        import zoneinfo
        zoneinfo.ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError on odd keys
        return f"{name!r} is not an IANA timezone name (e.g. 'UTC', 'Europe/Paris', 'America/New_York')"
    return None


def _schedule_all(args):
    chosen = [k for k in ("hourly", "daily", "weekly") if args.get(k) is True]
    if args.get("cron"):
        chosen.append("cron")
    if len(chosen) > 1:
        return [(None, f"give only one of hourly=True, daily=True, weekly=True or cron=... "
                       f"(got {', '.join(chosen)})")]
    if args.get("timezone") and not args.get("cron"):
        return [("timezone", "timezone= applies to a cron= schedule only: give cron='...' too, "
                             "or drop timezone=")]
    return []


def _timeout_all(args):
    if timeout_seconds(args) <= 0:  # a non-number counts 0: reported by the per-argument check
        return [(None, "the timeout must be greater than 0: give seconds=, minutes= or hours=")]
    return []


def _trigger_all(args):
    if not args.get("event") and not args.get("events"):
        return [(None, "give the event to listen to: event='name' or events=[...]")]
    return []


def _trigger_on_finish_all(args):
    if not args.get("flow") and not args.get("flows"):
        return [(None, "give the upstream flow: flow='FlowName' or flows=[...]")]
    return []


def _event_spec(value):
    if value is None:
        return None
    if isinstance(value, str):
        return None if value else "must not be empty"
    if isinstance(value, dict):
        if "name" not in value:
            return "a dict event needs a 'name' key, e.g. {'name': 'data_ready', 'parameters': {...}}"
        return None
    return f"must be an event name or a dict with 'name', got {value!r}"


def _event_list(value):
    if value is None:
        return None
    if not isinstance(value, list):
        return f"must be a list, got {type(value).__name__}"
    for item in value:
        err = _event_spec(item)
        if err:
            return err
    return None


def _flow_list(value):
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return f"must be a list of flow names, got {value!r}"
    return None


def _hook_functions(value):
    """``@exit_hook(on_success=[...])``: function names (the compiler's IR) or, when
    the authoring API validates at import time, the functions themselves."""
    if not isinstance(value, list) or not all(
            (isinstance(v, str) and v.isidentifier()) or (callable(v) and hasattr(v, "__name__")) for v in value):
        return f"must be a list of functions defined at module level in the flow file, got {value!r}"
    return None


_PROJECT_NAME = re.compile(r"^[a-z0-9_]+$")


def _project_name(value):
    if not isinstance(value, str) or not _PROJECT_NAME.match(value or ""):
        return f"must be lowercase letters, digits and underscores, got {value!r}"
    return None


SPECS: dict[str, DecoratorSpec] = {}


def _add(spec: DecoratorSpec):
    SPECS[spec.name] = spec


_add(DecoratorSpec("resources", (STEP,), {"cpu": 1, "gpu": None, "disk": None, "memory": 4096,
                                          "shared_memory": None},
                   {"cpu": _positive_number, "gpu": _non_negative_int, "disk": _positive_number,
                    "memory": _positive_number, "shared_memory": _positive_number}))
_add(DecoratorSpec("batch", (STEP,), {
    "cpu": None, "gpu": None, "memory": None, "image": None, "queue": None, "iam_role": None,
    "execution_role": None, "shared_memory": None, "max_swap": None, "swappiness": None,
    "use_tmpfs": False, "tmpfs_tempdir": True, "tmpfs_size": None, "tmpfs_path": "/metaflow_temp",
    "inferentia": 0, "trainium": None, "efa": 0, "host_volumes": None, "efs_volumes": None,
    "ephemeral_storage": None, "log_driver": None, "log_options": None, "aws_batch_tags": None,
    "privileged": False, "executable": None},
    {"cpu": _positive_number, "gpu": _non_negative_int, "memory": _positive_number,
     "image": _instance(str, "an image name"), "queue": _instance(str, "a job queue name or ARN"),
     "iam_role": _instance(str, "a role ARN"), "execution_role": _instance(str, "a role ARN"),
     "shared_memory": _positive_number, "max_swap": _non_negative_number,
     "swappiness": _non_negative_number, "use_tmpfs": _bool, "privileged": _bool,
     "ephemeral_storage": _positive_number, "aws_batch_tags": _instance(dict, "a dict")}))
_add(DecoratorSpec("retry", (STEP,), {"times": 3, "minutes_between_retries": 2},
                   {"times": _int_between(0, 4), "minutes_between_retries": _non_negative_number}))
_add(DecoratorSpec("catch", (STEP,), {"var": None, "print_exception": True},
                   {"var": _identifier, "print_exception": _bool}))
_add(DecoratorSpec("timeout", (STEP,), {"seconds": 0, "minutes": 0, "hours": 0},
                   {"seconds": _non_negative_number, "minutes": _non_negative_number,
                    "hours": _non_negative_number}, _timeout_all))
_add(DecoratorSpec("environment", (STEP,), {"vars": {}}, {"vars": _str_map}))


_CARD_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def _card_name(what):
    def check(value):
        if value is None:
            return None
        if not isinstance(value, str) or not _CARD_NAME.match(value):
            return f"must be {what} made of letters, digits and underscores (it names the card's file), got {value!r}"
        return None
    return check


# @card: rendered by the task after its record is committed (a failing card never fails
# the task); ``timeout`` bounds the rendering, ``options`` go to the card type's constructor.
_add(DecoratorSpec("card", (STEP,), {"type": "default", "id": None, "options": {}, "timeout": 45,
                                     "save_errors": True, "customize": False, "refresh_interval": 5},
                   {"type": _card_name("a card type name"), "id": _card_name("an id"),
                    "options": _instance(dict, "a dict of options for the card type"),
                    "timeout": _positive_number, "save_errors": _bool, "customize": _bool,
                    "refresh_interval": _positive_number}))
_add(DecoratorSpec("parallel", (STEP,), {}))


def _secret_sources(value):
    from .secretsources import source_problems

    return source_problems(value)


_add(DecoratorSpec("secrets", (STEP,), {"sources": [], "role": None, "allow_override": False},
                   {"sources": _secret_sources, "role": _instance(str, "an IAM role ARN"),
                    "allow_override": _bool}))
_add(DecoratorSpec("pypi", (STEP, FLOW), {"packages": {}, "python": None, "disabled": None},
                   {"packages": _packages, "python": _instance(str, "a version string like '3.11'"),
                    "disabled": _bool}))
_add(DecoratorSpec("pypi_base", (FLOW,), {"packages": {}, "python": None, "disabled": None},
                   {"packages": _packages, "python": _instance(str, "a version string like '3.11'"),
                    "disabled": _bool}))
_add(DecoratorSpec("conda", (STEP, FLOW), {"packages": {}, "libraries": {}, "python": None, "disabled": None},
                   {"packages": _packages, "libraries": _packages,
                    "python": _instance(str, "a version string like '3.11'"), "disabled": _bool}))
_add(DecoratorSpec("conda_base", (FLOW,), {"packages": {}, "libraries": {}, "python": None, "disabled": None},
                   {"packages": _packages, "libraries": _packages,
                    "python": _instance(str, "a version string like '3.11'"), "disabled": _bool}))
_add(DecoratorSpec("schedule", (FLOW,), {"hourly": False, "daily": True, "weekly": False, "cron": None,
                                         "timezone": None},
                   {"hourly": _bool, "daily": _bool, "weekly": _bool,
                    "cron": lambda v: None if v is None else cron_error(v), "timezone": timezone_error},
                   _schedule_all))
_add(DecoratorSpec("project", (FLOW,), {"name": None, "branch": None, "production": False},
                   {"name": _project_name, "branch": _instance(str, "a branch name"), "production": _bool}))
_add(DecoratorSpec("trigger", (FLOW,), {"event": None, "events": [], "options": {}},
                   {"event": _event_spec, "events": _event_list, "options": _instance(dict, "a dict")},
                   _trigger_all))
_add(DecoratorSpec("trigger_on_finish", (FLOW,), {"flow": None, "flows": [], "options": {}},
                   {"flow": lambda v: None if v is None or (isinstance(v, (str, dict)) and v)
                    else f"must be a flow name, got {v!r}",
                    "flows": _flow_list, "options": _instance(dict, "a dict")}, _trigger_on_finish_all))
# ``options``/``image`` are Metaflow's keys (its hook pod's settings); accepted so a
# Metaflow flow compiles, and not used: hooks run on the flow's default job definition.
_add(DecoratorSpec("exit_hook", (FLOW,), {"on_success": [], "on_error": [], "options": {}, "image": None},
                   {"on_success": _hook_functions, "on_error": _hook_functions,
                    "options": _instance(dict, "a dict"), "image": _instance(str, "an image name")}))

STEP_DECORATORS = tuple(sorted(n for n, s in SPECS.items() if STEP in s.levels))
FLOW_DECORATORS = tuple(sorted(n for n, s in SPECS.items() if FLOW in s.levels))


def validate(name: str, args: dict[str, Any], level: str = STEP) -> list[tuple[str | None, str]]:
    """Problems with ``@name(**args)`` used at ``level`` ('step' or 'flow')."""
    spec = SPECS.get(name)
    if spec is None:
        known = STEP_DECORATORS if level == STEP else FLOW_DECORATORS
        return [(None, f"unknown {level} decorator @{name}; supported: "
                       + ", ".join("@" + k for k in known))]
    if level not in spec.levels:
        where = "on the flow class" if FLOW in spec.levels else "on a step"
        return [(None, f"@{name} is not allowed on a {level}; put it {where}")]
    problems: list[tuple[str | None, str]] = []
    for key, value in args.items():
        if key not in spec.defaults:
            allowed = ", ".join(sorted(spec.defaults)) or "no arguments"
            problems.append((key, f"@{name} has no argument '{key}' (allowed: {allowed})"))
            continue
        check = spec.checks.get(key)
        err = check(value) if check else None
        if err:
            problems.append((key, f"@{name}({key}=...) {err}"))
    if not problems and spec.check_all:
        problems.extend((k, f"@{name}: {m}") for k, m in spec.check_all({**args}))
    return problems


def with_defaults(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {**SPECS[name].defaults, **args}

