"""Files users read, rendered from the templates shipped in the package
``sfncompile.templates`` (the top-level ``templates/`` folder; see setup.py):
the job image's Dockerfile and the deployment report."""

from __future__ import annotations

from importlib import resources

TEMPLATES_PACKAGE = "sfncompile.templates"


def _load(name: str) -> str:
    # Through importlib.resources, so a wheel, a zip or a checkout all work.
    return resources.files(TEMPLATES_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def _env():
    import jinja2

    return jinja2.Environment(loader=jinja2.FunctionLoader(_load), keep_trailing_newline=True,
                              autoescape=False, undefined=jinja2.StrictUndefined, trim_blocks=True)


def dockerfile(flow_name: str, python_version: str = "3.11", packages: dict[str, str] | None = None) -> str:
    """A Dockerfile for the Batch job image: Python + boto3 (+ the flow's @pypi packages)."""
    pins = [(name, version if version[:1] in "=<>!~" else f"=={version}" if version else "")
            for name, version in sorted((packages or {}).items())]
    return _env().get_template("Dockerfile.j2").render(flow_name=flow_name, python_version=python_version,
                                                       packages=pins, runtime_pins=runtime_pins())


def runtime_pins() -> list[str]:
    """The runtime's pinned dependencies (``sfncompile_runtime/requirements.txt``, package data, so a
    wheel has them too)."""
    text = resources.files("sfncompile_runtime").joinpath("requirements.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def deploy_report(flow: str, result) -> str:
    return _env().get_template("deploy-report.md.j2").render(
        flow=flow, deployment=result.deployment, state_machine_arn=result.state_machine_arn,
        datastore_root=result.datastore_root, code_url=result.code_url, production_token=result.production_token,
        stacks=result.stacks, timings=result.timings)
