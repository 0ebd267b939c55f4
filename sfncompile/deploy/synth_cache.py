"""Skip the CDK synth when its inputs did not change.

A synth starts the jsii kernel (node) and costs 4-14 s in a fresh process;
a redeploy of an unchanged flow needs the very same templates. They are kept
under ``$SFNCOMPILE_HOME/synth-cache/<digest>.json``, the digest covering
everything a template depends on: the IR, the compiled definition, the job
specs, the settings, the CDK back end's own source and the aws-cdk-lib version.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from importlib import metadata
from pathlib import Path

from .production import home

BACKEND = Path(__file__).resolve().parents[1] / "backends" / "cdk"


def _backend_source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(BACKEND.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_key(build, settings, platform) -> str:
    try:
        cdk_version = metadata.version("aws-cdk-lib")
    except metadata.PackageNotFoundError:
        cdk_version = "unknown"
    payload = {
        "graph": build.graph.to_dict(),
        "definition": build.definition_text,
        "job_specs": {k: dataclasses.asdict(v) for k, v in sorted(build.job_specs.items())},
        "settings": repr(settings),
        "platform": repr(platform),
        "backend": _backend_source_digest(),
        "aws-cdk-lib": cdk_version,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _path(key: str) -> Path:
    return home() / "synth-cache" / f"{key}.json"


def load(key: str):
    from ..backends.cdk.app import SynthResult

    try:
        data = json.loads(_path(key).read_text())
    except (OSError, ValueError):
        return None
    return SynthResult(outdir=_path(key).parent, templates=data["templates"], flow_stacks=data["flow_stacks"],
                       platform_stack=data["platform_stack"], seconds=0.0)


def store(key: str, result) -> None:
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"templates": result.templates, "flow_stacks": result.flow_stacks,
                               "platform_stack": result.platform_stack}))
    tmp.replace(path)
