"""``@secrets(sources=[...], role=None, allow_override=False)``: Metaflow 2.19's semantics.

Before the step's code runs, every source is read and its values become
environment variables of the task (and of what it starts):

* a source is ``"<id>"`` / ``"<type>.<id>"`` or ``{"type", "id", "options", "role"}``;
  the type defaults to ``aws-secrets-manager`` (Metaflow reads it from
  ``METAFLOW_DEFAULT_SECRETS_BACKEND_TYPE``, which is honoured too);
* the role (an IAM role ARN to assume for reading) is the source's, else the
  decorator's, else ``METAFLOW_DEFAULT_SECRETS_ROLE``;
* ``aws-secrets-manager``: a JSON object secret gives one variable per key
  (``-``, ``.``, ``/`` in keys become ``_``); with ``options={"json": False}``,
  or for a binary secret (base64), one variable named ``options["env_var_name"]``
  or the secret's name. The region comes from the ARN, ``options["region"]``,
  ``METAFLOW_AWS_SECRETS_MANAGER_DEFAULT_REGION``, else boto3's default;
* ``inline`` (for tests, as Metaflow's): ``options["env_vars"]`` as given.

Names must be valid identifiers not starting with ``METAFLOW_`` (or
``SFNCOMPILE_``: the runner's contract); two sources may not set the same
name; a name already in the environment is an error unless
``allow_override=True``. The same code runs locally and in a Batch job, so a
local run reads the very secret the deployed one does.

``source_problems`` is the static check the compiler's lint and the
authoring API share (through ``decorator_specs``).
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass, field

AWS = "aws-secrets-manager"
INLINE = "inline"
BACKENDS = (AWS, INLINE)
DISALLOWED_PREFIXES = ("METAFLOW_", "SFNCOMPILE_")
_ENV_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ARN_REGION = re.compile(r"arn:aws[a-z-]*:secretsmanager:([^:]+):")


class SecretsError(Exception):
    """A source that cannot be read or injected; the message names it."""


@dataclass(frozen=True)
class SecretSpec:
    backend: str
    secret_id: str
    options: dict = field(default_factory=dict)
    role: str | None = None

    def __str__(self) -> str:
        return f"{self.secret_id} ({self.backend})"


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def default_backend() -> str:
    return _env("SFNCOMPILE_DEFAULT_SECRETS_BACKEND_TYPE", "METAFLOW_DEFAULT_SECRETS_BACKEND_TYPE") or AWS


def source_problems(sources) -> str | None:
    """What is wrong with ``sources`` as written (None when nothing is)."""
    if not isinstance(sources, (list, tuple)):
        return f"must be a list of secret sources (strings or dicts), got {type(sources).__name__} {sources!r}"
    for i, item in enumerate(sources):
        where = f"source {i + 1}"
        if isinstance(item, str):
            if not item:
                return f"{where} is an empty string"
            if "." in item:
                kind = item.split(".", 1)[0]
                if kind not in BACKENDS:
                    return (f"{where} {item!r}: unknown secrets backend type {kind!r} (available: "
                            f"{', '.join(BACKENDS)}); a secret id containing '.' needs the dict form "
                            "{'type': ..., 'id': ...}")
            continue
        if not isinstance(item, dict):
            return f"{where} must be a string or a dict, got {type(item).__name__} {item!r}"
        kind = item.get("type", default_backend())
        if not isinstance(kind, str):
            return f"{where}: 'type' must be a string, got {type(kind).__name__}"
        if kind not in BACKENDS:
            return f"{where}: unknown secrets backend type {kind!r} (available: {', '.join(BACKENDS)})"
        if not isinstance(item.get("id"), str) or not item.get("id"):
            return f"{where}: 'id' must be a non-empty string, got {item.get('id')!r}"
        if not isinstance(item.get("options", {}), dict):
            return f"{where}: 'options' must be a dict, got {type(item.get('options')).__name__}"
        if item.get("role") is not None and not isinstance(item.get("role"), str):
            return f"{where}: 'role' must be a string (an IAM role ARN), got {type(item.get('role')).__name__}"
    return None


def parse_sources(sources, role: str | None = None, environment_defaults: bool = True) -> list[SecretSpec]:
    """The sources as specs. ``environment_defaults=False`` (the compiler) ignores the
    default role of the machine it runs on: a job has its own environment."""
    problem = source_problems(sources)
    if problem:
        raise SecretsError(f"Bad @secrets specification: {problem}")
    if environment_defaults:
        role = role or _env("SFNCOMPILE_DEFAULT_SECRETS_ROLE", "METAFLOW_DEFAULT_SECRETS_ROLE")
    specs = []
    for item in sources:
        if isinstance(item, str):
            kind, _, rest = item.partition(".")
            specs.append(SecretSpec(kind, rest, {}, role) if rest else SecretSpec(default_backend(), item, {}, role))
        else:
            specs.append(SecretSpec(item.get("type", default_backend()), item["id"], dict(item.get("options") or {}),
                                    item.get("role") or role))
    return specs


# -- backends ---------------------------------------------------------------------
def _sanitize(key: str) -> str:
    return key.replace("-", "_").replace(".", "_").replace("/", "_")


def aws_region(spec: SecretSpec) -> str | None:
    match = _ARN_REGION.match(spec.secret_id)
    if match:
        return match.group(1)
    return spec.options.get("region") or _env("SFNCOMPILE_AWS_SECRETS_MANAGER_DEFAULT_REGION",
                                              "METAFLOW_AWS_SECRETS_MANAGER_DEFAULT_REGION")


def _secrets_manager(spec: SecretSpec):
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": int(os.environ.get("SFNCOMPILE_AWS_MAX_ATTEMPTS", "8"))})
    session = boto3.session.Session()
    region = aws_region(spec)
    if spec.role:
        creds = session.client("sts", config=config).assume_role(
            RoleArn=spec.role, RoleSessionName="sfncompile-secrets")["Credentials"]
        session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                        aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"])
    try:
        return session.client("secretsmanager", region_name=region, config=config)
    except Exception as exc:  # botocore's NoRegionError
        if type(exc).__name__ == "NoRegionError":
            raise SecretsError("no region for AWS Secrets Manager: give the secret's ARN, options={'region': ...}, "
                               "or set METAFLOW_AWS_SECRETS_MANAGER_DEFAULT_REGION / AWS_DEFAULT_REGION")
        raise


def _from_secrets_manager(spec: SecretSpec) -> dict[str, str]:
    response = _secrets_manager(spec).get_secret_value(SecretId=spec.secret_id)
    if "Name" not in response:
        raise SecretsError("the response from Secrets Manager has no secret 'Name'")
    result: dict[str, str] = {}

    def add(key: str, value: str) -> None:
        name = _sanitize(key)
        if name in result:
            raise SecretsError(f"duplicate key in secret: {key!r} (sanitizes to {name!r})")
        result[name] = value

    single = spec.options.get("env_var_name") or response["Name"]
    if "SecretString" in response:
        text = response["SecretString"]
        if spec.options.get("json", True):
            try:
                value = json.loads(text)
            except ValueError:
                raise SecretsError("the secret string could not be parsed as JSON "
                                   "(use options={'json': False} for a plain string)")
            if not isinstance(value, dict):
                raise SecretsError(f"the secret string is JSON, but not an object (dict-like) - actual type "
                                   f"{type(value)}")
            for key, item in value.items():
                add(key, str(item))
        else:
            add(single, text)
    elif "SecretBinary" in response:
        add(single, base64.b64encode(response["SecretBinary"]).decode())
    else:
        raise SecretsError("the response from Secrets Manager has neither 'SecretString' nor 'SecretBinary'")
    return result


def fetch(spec: SecretSpec) -> dict[str, str]:
    """The environment variables one source gives."""
    if spec.backend == INLINE:
        return dict(spec.options.get("env_vars", {}))
    if spec.backend == AWS:
        return _from_secrets_manager(spec)
    raise SecretsError(f"unknown secrets backend type {spec.backend!r} (available: {', '.join(BACKENDS)})")


def _check_names(spec: SecretSpec, values: dict) -> None:
    for key, value in values.items():
        if not isinstance(key, str):
            raise SecretsError(f"Invalid env vars from secret {spec}: found non string key {key} ({type(key)})")
        if not isinstance(value, str):
            raise SecretsError(f"Invalid env vars from secret {spec}: found non string value for {key} "
                               f"({type(value)})")
        if not _ENV_NAME.fullmatch(key):
            raise SecretsError(f"Invalid env vars from secret {spec}: found invalid env var name '{key}'.")
        for prefix in DISALLOWED_PREFIXES:
            if key.startswith(prefix):
                raise SecretsError(f"Invalid env vars from secret {spec}: found disallowed env var name "
                                   f"'{key}' (starts with '{prefix}').")


def resolve(args: dict, environ=None) -> dict[str, str]:
    """Every variable ``@secrets(**args)`` sets, checked against each other and ``environ``."""
    environ = os.environ if environ is None else environ
    specs = parse_sources(args.get("sources") or [], args.get("role"))
    injected_by: dict[str, SecretSpec] = {}
    values: dict[str, str] = {}
    for spec in specs:
        try:
            found = fetch(spec)
        except SecretsError as exc:
            raise SecretsError(f"Failed to retrieve secret '{spec.secret_id}': {exc}")
        except Exception as exc:  # boto3/botocore: ResourceNotFound, AccessDenied, ...
            raise SecretsError(f"Failed to retrieve secret '{spec.secret_id}': {exc}")
        _check_names(spec, found)
        for key in found:
            if key in injected_by:
                raise SecretsError(f"Secret '{spec}' will inject '{key}' as env var, and it is also added by "
                                   f"'{injected_by[key]}'")
            injected_by[key] = spec
        values.update(found)
    if not args.get("allow_override"):
        for key, spec in injected_by.items():
            if key in environ:
                raise SecretsError(f"Secret '{spec}' will inject '{key}' as env var, but it already exists in env")
    return values


def inject(args: dict) -> list[str]:
    """Set the variables of ``@secrets(**args)`` in this process; returns their names."""
    values = resolve(args)
    os.environ.update(values)
    return sorted(values)
