"""The front end's one exception to "never import the flow": values only the user's code gives.

A ``Config`` whose ``parser=`` is the flow's own function, whose ``default_value=``
or ``default=`` is a function (or an expression the compiler cannot evaluate), a
``config_expr`` that calls the flow's helpers: Metaflow's launcher gets these by
importing the flow. So do we, but never in this process: the first such question
starts one child process (``sfncompile_runtime.launchvalues``: the flow imported
with the runtime's ``metaflow``, as in a task) that answers every question of this
compile, and ends with it. A flow that needs none starts nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


class LaunchFailure(Exception):
    """The user's code failed (or could not be imported): ``message``, and ``trace`` (their frames)."""

    def __init__(self, message: str, trace: str = ""):
        super().__init__(message)
        self.message = message
        self.trace = trace

    def describe(self) -> str:
        return self.message + (f"\n{self.trace}" if self.trace else "")


class LaunchValues:
    def __init__(self, flow_file: str, class_name: str):
        self.flow_file = flow_file
        self.class_name = class_name
        self._process: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if self._process is None:
            if not os.path.isfile(self.flow_file):
                raise LaunchFailure(f"the flow file {self.flow_file} is not on disk, so it cannot be imported")
            # The runtime's folder on the child's path, whatever this process's own path is
            # (a CDK app run from elsewhere): the child needs sfncompile_runtime, nothing else of ours.
            import sfncompile_runtime

            runtime_parent = os.path.dirname(os.path.dirname(os.path.abspath(sfncompile_runtime.__file__)))
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (runtime_parent, env.get("PYTHONPATH")) if p)
            self._process = subprocess.Popen(
                [sys.executable, "-m", "sfncompile_runtime.launchvalues", os.path.abspath(self.flow_file),
                 self.class_name],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, encoding="utf-8")
        return self._process

    def ask(self, question: dict):
        process = self._start()
        try:
            process.stdin.write(json.dumps(question) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            code = process.wait()
            self._process = None
            raise LaunchFailure(f"the process importing {os.path.basename(self.flow_file)} ended (exit status "
                                f"{code}) before answering; its output is above")
        answer = json.loads(line)
        if "error" in answer:
            raise LaunchFailure(answer["error"], answer.get("traceback") or "")
        return answer["value"]

    def config(self, name: str, text: str | None = None, use_default: bool = False):
        return self.ask({"op": "config", "name": name, "text": text, "default": use_default})

    def expression(self, text: str, configs: dict[str, tuple]):
        return self.ask({"op": "expr", "text": text, "configs": {k: list(v) for k, v in configs.items()}})

    def environ(self, names) -> dict:
        return self.ask({"op": "environ", "names": list(names)})

    def parameters(self, names, includes, configs: dict[str, tuple], project: str | None, ds_type: str) -> dict:
        return self.ask({"op": "parameters", "names": list(names), "includes": list(includes),
                         "configs": {k: list(v) for k, v in configs.items()}, "project": project,
                         "ds_type": ds_type})

    @property
    def started(self) -> bool:
        return self._process is not None

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
