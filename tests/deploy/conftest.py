"""Deploy tests: the shared moto server with infra's test-support patches.

``tests.support.moto_cfn`` fills moto's CloudFormation gaps and
``tests.support.moto_batch`` runs Batch jobs as local processes and
``tests.support.moto_events`` lets rules start executions; they patch
the in-process moto server once per worker. Every test gets a reset moto and
its own token home (``SFNCOMPILE_HOME``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

HERE = Path(__file__).resolve().parent
TEST_FLOWS = HERE.parent / "backends" / "cdk" / "flows"


@pytest.fixture(scope="session")
def patched_moto(moto):
    from tests.support import moto_batch, moto_cfn, moto_events

    moto_cfn.install()
    moto_batch.install()
    moto_events.install()
    return moto


@dataclass
class Cloud:
    server: object
    config: object
    home: Path
    lines: list[str] = field(default_factory=list)

    def echo(self, line: str) -> None:
        self.lines.append(line)

    def client(self, service: str):
        import boto3

        return boto3.client(service)

    def deploy(self, flow: Path | str, **options):
        from sfncompile.deploy.deployment import DeployOptions, deploy

        options.setdefault("deployer", "tester")
        return deploy(str(flow), self.config, DeployOptions(**options), echo=self.echo)

    def wait(self, execution_arn: str, timeout: float = 180) -> dict:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                return described
            time.sleep(0.3)


@pytest.fixture
def cloud(aws, patched_moto, tmp_path, monkeypatch):
    from sfncompile.config import Config
    from tests.support.moto_batch import disable_execution

    # moto's config survives a reset; another package's tests may have left execution on.
    disable_execution(aws)
    home = tmp_path / "home"
    monkeypatch.setenv("SFNCOMPILE_HOME", str(home))
    for key in ("SFNCOMPILE_DATASTORE", "SFNCOMPILE_JOB_QUEUE", "SFNCOMPILE_SIDE_CHANNEL_TABLE",
                "SFNCOMPILE_STACK_PREFIX", "SFNCOMPILE_IMAGE"):
        monkeypatch.delenv(key, raising=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    return Cloud(server=aws, config=Config.load(project), home=home)


@pytest.fixture
def executing(cloud):
    """moto's Step Functions executes our definitions (jobs run as local processes)."""
    from tests.support.moto_batch import disable_execution, enable_execution

    enable_execution(cloud.server)
    try:
        yield cloud
    finally:
        disable_execution(cloud.server)


def example(name: str) -> Path:
    return EXAMPLES / f"{name}.py"


def flow_file(name: str) -> Path:
    for folder in (TEST_FLOWS, HERE / "flows"):
        if (folder / f"{name}.py").exists():
            return folder / f"{name}.py"
    raise FileNotFoundError(name)
