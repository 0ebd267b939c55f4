"""``Deployer`` (Metaflow's programmatic deploy API) end to end against moto: create,
trigger, the triggered run's status and client ``Run``, list_runs, delete.

Each call runs our command line in a subprocess, as Metaflow's ``Deployer`` does; moto
executes the state machine and our test-support Batch runner runs the jobs.
"""

from __future__ import annotations

import textwrap
import time

FLOW = textwrap.dedent('''
    from metaflow import Config, FlowSpec, Parameter, step


    class DeployerFlow(FlowSpec):
        alpha = Parameter("alpha", default=1, type=int)
        scale = Config("scale", required=True)  # given by Deployer(config_value=...)

        @step
        def start(self):
            self.doubled = self.alpha * self.scale.k
            self.next(self.end)

        @step
        def end(self):
            print("doubled", self.doubled)


    if __name__ == "__main__":
        DeployerFlow()
''')


def _until_done(triggered, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = triggered.status
        if status not in ("RUNNING", None) or time.monotonic() > deadline:
            return status
        time.sleep(1)


def test_deployer_creates_triggers_and_deletes(executing, tmp_path):
    from sfncompile import Deployer
    from sfncompile_runtime.client import namespace

    cloud = executing
    flow = tmp_path / "project" / "deployer_flow.py"
    flow.write_text(FLOW)

    # Metaflow's top-level config_value= reaches deploy (compiled in) and trigger (which compiles the
    # flow too: without it the required config would fail there).
    deployer = Deployer(str(flow), show_output=False, cwd=str(flow.parent), metadata="local",
                        config_value=[("scale", {"k": 2})])
    with deployer.step_functions() as sfn_deployer:
        deployed = sfn_deployer.create()
        assert deployed.flow_name == "DeployerFlow" and deployed.TYPE == "step-functions"
        stack = cloud.client("cloudformation").describe_stacks(StackName=deployed.name)["Stacks"][0]
        tags = {t["Key"]: t["Value"] for t in stack["Tags"]}
        assert deployed.production_token == tags["sfncompile:production_token"]
        assert deployed.metadata.startswith("s3://")

        triggered = deployed.trigger(alpha=21)
        assert triggered.pathspec == f"DeployerFlow/{triggered.name}"
        assert _until_done(triggered) == "SUCCEEDED"
        namespace(None)
        run = triggered.wait_for_run(check_interval=1, timeout=60)
        assert run.pathspec == triggered.pathspec and run.successful
        assert run.data.doubled == 42
        assert f"production:{deployed.production_token}" in run.system_tags

        assert [r.name for r in deployed.list_runs()] == [triggered.name]
        assert [r.name for r in deployed.list_runs(states=["SUCCEEDED"])] == [triggered.name]
        assert deployed.list_runs(states=["FAILED"]) == []

        assert deployed.delete() is True
        remaining = cloud.client("cloudformation").list_stacks()["StackSummaries"]
        assert all(s["StackStatus"] == "DELETE_COMPLETE" for s in remaining if s["StackName"] == deployed.name)
        # the deployment is gone: a second delete fails (False), as Metaflow's returns the command's outcome
        assert deployed.delete() is False
