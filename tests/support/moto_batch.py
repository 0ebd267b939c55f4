"""Test support: make moto run our Batch jobs as local processes, and let its
Step Functions interpreter submit them.

* ``Job.run`` (moto's Docker runner; there is no Docker daemon here) is replaced
  by one that runs the job's command — job definition command with ``Ref::``
  parameters substituted, environment = job definition + container overrides —
  as a local process, the way the local executor does (``python3`` becomes this
  interpreter), writes its output to the job's CloudWatch log stream and marks
  the job SUCCEEDED/FAILED by exit status.
* moto's Step Functions service integrations stub out the request/response
  conversion (``_normalise_parameters``/``_normalise_response`` do nothing), so
  ``batch:submitJob.sync`` with AWS's PascalCase keys fails with
  ``States.Runtime 'JobName'``. The LocalStack helpers they were ported from
  (``_to_boto_request``/``_from_boto_response``) are still there; this restores
  the two calls for the Batch integration.

Never imported by the product.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from time import sleep

_installed = False
JOB_LOG_GROUP = "/aws/batch/job"


def _operation_model(service: str, action_snake: str):
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    for name in model.operation_names:
        if _snake(name) == action_snake:
            return model.operation_model(name)
    raise KeyError(f"{service}.{action_snake}")


def _snake(name: str) -> str:
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def run_job_locally(self) -> None:
    """Replacement for ``moto.batch.models.Job.run`` (runs in the job's thread)."""
    from moto.batch.models import JobStatus

    try:
        self.advance()
        while self.status == JobStatus.SUBMITTED:
            sleep(0.05)
        self.advance()
        while self.status == JobStatus.PENDING:
            sleep(0.05)
        from datetime import datetime

        self.job_started_at = datetime.now()
        self._start_attempt()
        command = list(self._add_parameters_to_command(self._get_container_property("command", [])))
        if command and command[0] == "python3":
            command[0] = sys.executable
        env = dict(os.environ)
        env.update({e["name"]: e["value"] for e in self._get_container_property("environment", [])})
        from tests.support.moto_iam import job_credentials

        env.update(job_credentials(self) or {})  # the job role's session while moto enforces IAM
        timeout = self._get_attempt_duration()
        started = time.time()
        code, out, err = _run_until_stopped(self, command, env, timeout)
        millis = int(started * 1000)
        events = [{"timestamp": millis, "message": line} for line in (out + err).splitlines() if line]
        self.log_stream_name = self._stream_name
        self._log_backend.ensure_log_group(JOB_LOG_GROUP)
        self._log_backend.ensure_log_stream(JOB_LOG_GROUP, self.log_stream_name)
        if events:
            self._log_backend.put_log_events(JOB_LOG_GROUP, self.log_stream_name, events)
        self.exit_code = code
        self._mark_stopped(success=(code == 0 and not self.stop))
    except Exception as exc:  # never leave a job hanging in RUNNING
        sys.stderr.write(f"test batch runner: {exc!r}\n")
        self._mark_stopped(success=False)


def _run_until_stopped(job, command, env, timeout):
    """Run the job's command; TerminateJob (``job.stop``) or the attempt timeout kills it, as Batch would."""
    import signal
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.monotonic() + timeout if timeout else None
        note = ""
        while proc.poll() is None:
            if job.stop or (deadline is not None and time.monotonic() > deadline):
                note = "\njob terminated" if job.stop else "\njob timed out"
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            sleep(0.05)
        out.seek(0)
        err.seek(0)
        code = 137 if note else proc.returncode
        return code, out.read().decode(errors="replace"), err.read().decode(errors="replace") + note


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    from moto.batch import models as batch_models
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_batch as sfn_batch,
    )

    batch_models.Job.run = run_job_locally

    def normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
        service = self._get_boto_service_name(boto_service_name)
        action = self._get_boto_service_action(service_action_name)
        self._to_boto_request(parameters, _operation_model(service, action).input_shape)

    def normalise_response(self, response, boto_service_name=None, service_action_name=None):
        service = self._get_boto_service_name(boto_service_name)
        action = self._get_boto_service_action(service_action_name)
        self._from_boto_response(response, _operation_model(service, action).output_shape)

    sfn_batch.StateTaskServiceBatch._normalise_parameters = normalise_parameters
    sfn_batch.StateTaskServiceBatch._normalise_response = normalise_response


def enable_execution(server) -> None:
    """Let moto's Step Functions run executions (our Batch runner does the jobs)."""
    server.configure({"stepfunctions": {"execute_state_machine": True}})


def disable_execution(server) -> None:
    server.configure({"stepfunctions": {"execute_state_machine": False}})
