"""``Deployer``: Metaflow's programmatic API for deploying a flow, over ``sfncompile deploy``.

As Metaflow's ``Deployer`` does with ``python flow.py step-functions create``, each
operation runs our command line in a subprocess (``python -m sfncompile.cli.main
deploy|trigger|status|terminate|delete ...``) and hands back objects of Metaflow's shape::

    deployed = Deployer("flow.py", show_output=False).step_functions().create()
    triggered = deployed.trigger(alpha=0.5)
    run = triggered.wait_for_run()        # a client ``Run`` in the deployment's datastore
    print(deployed.production_token, triggered.status)
    deployed.delete()

Keyword arguments of ``Deployer(...)`` are Metaflow's top-level options: ``branch`` and
``production`` (``@project``'s) choose the deployment, sfncompile's AWS settings
(``region``, ``endpoint_url``, ``datastore``/``datastore_root`` as an ``s3://`` root,
``job_queue``, ``side_channel_table``, ``stack_prefix``, ``image``) go to every command, and
the options that select Metaflow services (``metadata``, ``environment``, ...) are accepted
and change nothing, as for ``Runner``. ``create(**kwargs)`` takes ``authorize`` (Metaflow's)
and ``sfncompile deploy``'s own options; Metaflow's other ``step-functions create`` options
(``tags``, ``given_token``, ``only_json``, ...) have no sfncompile counterpart and are refused
by name rather than ignored.

Only the standard library here; the subprocesses need the compiler (``sfncompile``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, ClassVar, Dict, List, Optional

from . import envnames
from .runner import DATASTORE_TYPES, IGNORED_TOP_LEVEL, CommandManager, _top_level_configs

# Options every AWS command takes (sfncompile.cli.deploy.aws_options), by keyword name.
AWS_OPTIONS = ("region", "endpoint_url", "job_queue", "side_channel_table", "stack_prefix", "image")
# The deployment a deployer targets (Metaflow's @project top-level options).
PROJECT_OPTIONS = ("branch", "production")
# ``sfncompile deploy``'s options, by keyword name (lists repeat the option).
CREATE_OPTIONS = {"authorize": "--authorize", "dry_run": "--dry-run", "compute": "--compute",
                  "subnets": "--subnet", "security_groups": "--security-group", "vpc_id": "--vpc-id",
                  "notification_topic": "--notification-topic", "job_role_arn": "--job-role-arn",
                  "execution_role_arn": "--execution-role-arn", "state_machine_role_arn": "--state-machine-role-arn",
                  "with_": "--with", "decospecs": "--with", "flow": "--flow"}
# Metaflow's ``step-functions create`` options sfncompile has no counterpart for.
UNSUPPORTED_CREATE = {
    "tags": "run tags are given when a run starts (sfncompile run --tag), not at deployment",
    "user_namespace": "a deployment's runs are in its production namespace (production:<token>)",
    "generate_new_token": "a deployment keeps its production token; delete it and deploy again for a new one",
    "given_token": "a deployment keeps its production token; delete it and deploy again for a new one",
    "only_json": "use sfncompile compile FLOW for the state machine's JSON, or create(dry_run=True)",
    "max_workers": "a foreach's concurrency comes from the flow (compile --max-workers), not the deployment",
    "workflow_timeout": "not supported at deployment",
    "log_execution_history": "the state machine always logs to CloudWatch",
    "use_distributed_map": "sfncompile chooses Inline or Distributed Map per foreach (compile --foreach-mode)",
    "compress_state_machine": "sfncompile's state machine passes no Batch commands through Step Functions",
}
EXECUTION_STATES = {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class DeployerError(RuntimeError):
    """A deployer command failed; its output is in the message."""


class Deployer:
    """Deploy a flow to a production orchestrator (Step Functions), as Metaflow's ``Deployer``."""

    def __init__(self, flow_file: str, show_output: bool = True, profile: Optional[str] = None,
                 env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None, file_read_timeout: int = 3600,
                 **kwargs):
        self.flow_file = os.path.abspath(flow_file)
        self.show_output = show_output
        self.profile = profile
        self.env = env
        self.cwd = cwd
        self.file_read_timeout = file_read_timeout
        self.top_level_kwargs = kwargs
        _top_level_arguments(kwargs)  # unknown options fail here, not at create()

    def step_functions(self, **deployer_kwargs) -> "StepFunctionsDeployer":
        """The Step Functions deployer (Metaflow's ``step_functions()``)."""
        return StepFunctionsDeployer(deployer_kwargs=deployer_kwargs, flow_file=self.flow_file,
                                     show_output=self.show_output, profile=self.profile, env=self.env, cwd=self.cwd,
                                     file_read_timeout=self.file_read_timeout, **self.top_level_kwargs)


class StepFunctionsDeployer:
    """Runs ``sfncompile deploy`` (``create``) and the commands of the deployed flow."""

    TYPE: ClassVar[str] = "step-functions"

    def __init__(self, deployer_kwargs: Dict[str, Any], flow_file: str, show_output: bool = True,
                 profile: Optional[str] = None, env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None,
                 file_read_timeout: int = 3600, **kwargs):
        if deployer_kwargs.get("name") is not None:
            raise TypeError("step_functions(name=...): sfncompile names the state machine itself "
                            "(<stack prefix>-<flow>[-<project>-<branch>]); leave name out")
        unknown = sorted(set(deployer_kwargs) - {"name"})
        if unknown:
            raise TypeError(f"step_functions() got unknown option(s): {', '.join(unknown)}")
        self.flow_file = os.path.abspath(flow_file)
        self.show_output = show_output
        self.profile = profile
        self.cwd = cwd or os.getcwd()
        self.file_read_timeout = file_read_timeout
        self.env_vars = os.environ.copy()
        self.env_vars.update(env or {})
        self.top_level_kwargs = kwargs
        self._aws_args, self._project_args, self._config_args = _top_level_arguments(kwargs)
        self.name: Optional[str] = None  # the deployment (stack and state machine), once created
        self.flow_name: Optional[str] = None
        self.metadata: Optional[str] = None  # the deployment's datastore root (where its runs are)
        self.state_machine_arn: Optional[str] = None
        self._production_token: Optional[str] = None
        self._commands: List[CommandManager] = []

    def __enter__(self) -> "StepFunctionsDeployer":
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.cleanup()

    def cleanup(self) -> None:
        for command in self._commands:
            command.kill()
            command.cleanup()
        self._commands.clear()

    def create(self, **kwargs) -> "StepFunctionsDeployedFlow":
        """Create or update the deployment (``sfncompile deploy``); raises if it fails."""
        argv = ["deploy", self.flow_file, "--json", *self._project_args, *self._aws_args, *self._config_args,
                *_create_arguments(kwargs)]
        out = self._run(argv, f"Error deploying {self.flow_file} to {self.TYPE}")
        result = json.loads(out[out.index("{"):])
        self.name = result["deployment"]
        self.flow_name = result.get("flow")
        self.metadata = result.get("datastore_root")
        self.state_machine_arn = result.get("state_machine_arn")
        self._production_token = result.get("production_token")
        return StepFunctionsDeployedFlow(deployer=self)

    # -- internals -----------------------------------------------------------------
    def _run(self, argv: List[str], error: str) -> str:
        """Run ``sfncompile ARGV``; its stdout, or ``DeployerError`` with its output."""
        command = CommandManager([sys.executable, "-m", "sfncompile.cli.main", *argv], self.env_vars, self.cwd,
                                 self.show_output)
        self._commands.append(command)
        command.sync_wait(self.file_read_timeout)
        with open(command.log_files["stdout"], encoding="utf-8", errors="replace") as src:
            out = src.read()
        if command.process.returncode != 0:
            with open(command.log_files["stderr"], encoding="utf-8", errors="replace") as src:
                err = src.read()
            why = "timed out" if command.timeout else f"exit code {command.process.returncode}"
            raise DeployerError(f"{error} ({why}): '{' '.join(command.command)}':\n\n{out}\n{err}")
        return out

    def _deployment_args(self) -> List[str]:
        return ["--deployment", self.name, *self._aws_args]


class TriggeredRun:
    """A run started on the deployed flow (Metaflow's ``TriggeredRun``): ``.pathspec``,
    ``.name`` (the run id), ``.run`` (a client ``Run``), ``.status``, ``wait_for_run()``."""

    def __init__(self, deployer: StepFunctionsDeployer, content: str):
        self.deployer = deployer
        content_json = json.loads(content)
        self.metadata_for_flow = content_json.get("metadata")
        self.pathspec = content_json.get("pathspec")
        self.name = content_json.get("name")

    def wait_for_run(self, check_interval: int = 5, timeout: Optional[int] = None):
        """The client ``Run`` once it exists; ``TimeoutError`` after ``timeout`` seconds."""
        started = time.time()
        while True:
            run = self.run
            if run is not None:
                return run
            if timeout is not None and time.time() - started > timeout:
                raise TimeoutError("Timed out waiting for the run object to become available.")
            time.sleep(check_interval)

    @property
    def run(self):
        """The client ``Run`` of this run (in the deployment's datastore), or None while it
        does not exist yet."""
        from .client import Run, datastore_root
        from .exceptions import MetaflowNotFound

        root = self.metadata_for_flow
        if root and datastore_root() != root:
            os.environ[envnames.DATASTORE] = root  # as Runner's ExecutingRun.run: the run's datastore
        try:
            return Run(self.pathspec, _namespace_check=False)
        except MetaflowNotFound:
            return None

    @property
    def status(self) -> Optional[str]:
        """The execution's status on Step Functions (``RUNNING``, ``SUCCEEDED``, ``FAILED``,
        ``TIMED_OUT``, ``ABORTED``), or None when it cannot be read."""
        try:
            out = self.deployer._run(["status", self.pathspec, "--json", *self.deployer._deployment_args()],
                                     f"Error reading the status of {self.pathspec}")
        except DeployerError:
            return None
        return json.loads(out[out.index("{"):]).get("status")

    def terminate(self, **kwargs) -> bool:
        """Stop the execution; True if the command succeeded."""
        if kwargs:
            raise TypeError(f"terminate() got unknown option(s): {', '.join(sorted(kwargs))}")
        try:
            self.deployer._run(["terminate", self.pathspec, *self.deployer._deployment_args()],
                               f"Error terminating {self.pathspec}")
        except DeployerError:
            return False
        return True


StepFunctionsTriggeredRun = TriggeredRun


class DeployedFlow:
    """A deployed flow (Metaflow's ``DeployedFlow``): ``.name``, ``.flow_name``, ``.metadata``,
    ``.production_token``, ``trigger(**params)``, ``list_runs()``, ``delete()``."""

    TYPE: ClassVar[Optional[str]] = None

    def __init__(self, deployer: StepFunctionsDeployer):
        self.deployer = deployer
        self.name = deployer.name
        self.flow_name = deployer.flow_name
        self.metadata = deployer.metadata


class StepFunctionsDeployedFlow(DeployedFlow):
    TYPE: ClassVar[Optional[str]] = "step-functions"

    @classmethod
    def list_deployed_flows(cls, flow_name: Optional[str] = None):
        raise NotImplementedError("list_deployed_flows is not implemented for StepFunctions")

    @classmethod
    def from_deployment(cls, identifier: str, metadata: Optional[str] = None):
        raise NotImplementedError("from_deployment is not implemented for StepFunctions")

    @classmethod
    def get_triggered_run(cls, identifier: str, run_id: str, metadata: Optional[str] = None):
        raise NotImplementedError("get_triggered_run is not implemented for StepFunctions")

    @property
    def production_token(self) -> Optional[str]:
        """The deployment's production token (its runs are in namespace ``production:<token>``)."""
        return self.deployer._production_token

    def trigger(self, **kwargs) -> TriggeredRun:
        """Start a run with these parameter values (``sfncompile trigger``); raises if it fails."""
        argv = ["trigger", self.deployer.flow_file, *self.deployer._deployment_args(), *self.deployer._config_args]
        if kwargs:
            argv += ["--params", json.dumps(kwargs)]
        out = self.deployer._run(argv, f"Error triggering {self.name} on {self.TYPE} for {self.deployer.flow_file}")
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        run_id = lines[-1]
        return TriggeredRun(self.deployer, json.dumps({"metadata": self.metadata,
                                                       "pathspec": f"{self.flow_name}/{run_id}", "name": run_id}))

    def list_runs(self, states: Optional[List[str]] = None) -> List[TriggeredRun]:
        """The deployment's runs, newest first, optionally only those in ``states``."""
        states = list(states or [])
        unique = set(states)
        if not unique <= EXECUTION_STATES:
            raise ValueError(f"Invalid states found: {unique - EXECUTION_STATES}. Valid states are: "
                             f"{EXECUTION_STATES}")
        if len(states) != len(unique):
            raise ValueError("Duplicate states are not allowed")
        # By the flow's name: these commands need no compile (a flow file would be compiled, its
        # configs read again).
        out = self.deployer._run(["runs", self.flow_name or self.deployer.flow_file, "--json", "--limit", "1000",
                                  *self.deployer._deployment_args()], f"Error listing the runs of {self.name}")
        rows = json.loads(out[out.index("["):])
        return [TriggeredRun(self.deployer, json.dumps({"metadata": self.metadata,
                                                        "pathspec": f"{self.flow_name}/{row['run_id']}",
                                                        "name": row["run_id"]}))
                for row in rows if not unique or row.get("status") in unique]

    def delete(self, **kwargs) -> bool:
        """Delete the deployment (its stack; the datastore is kept). ``authorize``: the production
        token, when this machine did not deploy it. True if the command succeeded."""
        unknown = sorted(set(kwargs) - {"authorize"})
        if unknown:
            raise TypeError(f"delete() got unknown option(s): {', '.join(unknown)}")
        argv = ["delete", self.flow_name or self.deployer.flow_file, "--yes", *self.deployer._deployment_args()]
        if kwargs.get("authorize"):
            argv += ["--authorize", str(kwargs["authorize"])]
        try:
            self.deployer._run(argv, f"Error deleting {self.name}")
        except DeployerError:
            return False
        return True


def _top_level_arguments(options: dict) -> tuple[List[str], List[str], List[str]]:
    """(AWS settings for every command, the @project options for deploy, the configs'
    ``--config``/``--config-value`` for the commands that compile the flow: deploy, trigger) from
    ``Deployer(**options)``."""
    options = dict(options)
    configs = _top_level_configs(options)  # Metaflow's top-level config=/config_value=
    aws: List[str] = []
    root = options.pop("datastore_root", None)
    datastore = options.pop("datastore", None)
    if datastore is not None and str(datastore) not in DATASTORE_TYPES and root is None:
        root = str(datastore)  # sfncompile's own --datastore: an s3:// root
    if root is not None:
        aws += ["--datastore", str(root)]
    for name in AWS_OPTIONS:
        value = options.pop(name, None)
        if value is not None:
            aws += [f"--{name.replace('_', '-')}", str(value)]
    project: List[str] = []
    branch = options.pop("branch", None)
    if branch is not None:
        project += ["--branch", str(branch)]
    if options.pop("production", False):
        project.append("--production")
    unknown = sorted(set(options) - IGNORED_TOP_LEVEL)
    if unknown:
        raise TypeError(f"Deployer() got option(s) sfncompile does not know: {', '.join(unknown)} (accepted: "
                        f"{', '.join(sorted({'config', 'config_value', 'datastore', 'datastore_root', *AWS_OPTIONS, *PROJECT_OPTIONS}))}, "
                        f"and, changing nothing, {', '.join(sorted(IGNORED_TOP_LEVEL))})")
    return aws, project, configs


def _create_arguments(kwargs: dict) -> List[str]:
    argv: List[str] = []
    for name, value in kwargs.items():
        if name in UNSUPPORTED_CREATE:
            raise TypeError(f"create({name}=...) is not supported by sfncompile: {UNSUPPORTED_CREATE[name]}")
        option = CREATE_OPTIONS.get(name)
        if option is None:
            raise TypeError(f"create() got an unknown option {name!r} (accepted: {', '.join(sorted(CREATE_OPTIONS))})")
        if value is None or value is False:
            continue
        if value is True:
            argv.append(option)
        elif isinstance(value, (list, tuple)):
            for item in value:
                argv += [option, str(item)]
        else:
            argv += [option, str(value)]
    return argv
