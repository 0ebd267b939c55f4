"""``Runner``: Metaflow's programmatic API for running a flow, over ``sfncompile run``/``resume``.

As Metaflow's ``Runner`` does with ``python flow.py run``, each ``run()``/``resume()``
starts our command line in a subprocess (``python -m sfncompile.cli.main run FLOW ...``),
reads the new run's id from an attribute file the command writes as soon as the
run exists, and hands back an ``ExecutingRun`` whose ``.run`` is a client ``Run``::

    with Runner("flow.py", show_output=False) as runner:
        result = runner.run(alpha=5, tags=["abc"], max_workers=4)
        print(result.status, result.run.data.x)

Keyword arguments of ``Runner(...)`` are Metaflow's top-level options
(``python flow.py --datastore=local ... run``): the ones that choose Metaflow
services sfncompile does not have (``metadata``, ``environment``,
``event_logger``, ``monitor``, ``pylint``, ``quiet``, ``profile`` with their
local values) are accepted and change nothing; ``datastore_root`` (or a
``datastore`` that is a path) chooses the datastore; ``config=[(NAME, PATH)]``
and ``config_value=[(NAME, VALUE)]`` are Metaflow's ``--config``/``--config-value``. Keyword arguments of
``run()``/``resume()`` are the command's options (``max_workers``,
``max_num_splits``, ``tags``, ``run_id_file``, ``step_to_rerun``,
``origin_run_id``, ``timeout``, ...) and, for the rest, the flow's parameters.

This module is imported only when ``Runner`` is used: it needs nothing beyond the
standard library here, and the subprocess needs the compiler (``sfncompile``).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, Optional

from . import envnames

# Metaflow's top-level options that select its own services; their local values are what
# sfncompile always does, so they are accepted and ignored.
IGNORED_TOP_LEVEL = {"metadata", "environment", "event_logger", "monitor", "pylint", "quiet", "profile",
                     "package_suffixes", "with_", "decospecs"}
DATASTORE_TYPES = {"local", "s3", "azure", "gs"}
# run/resume options with a value (``name`` -> ``--name``), repeatable ones, and flags.
VALUE_OPTIONS = {"max_workers", "max_num_splits", "run_id_file", "timeout", "side_channel_table",
                 "origin_run_id", "datastore"}
IGNORED_RUN_OPTIONS = {"max_log_size", "run_id", "clone_only", "reentrant", "resume_identifier"}
FLAG_OPTIONS = {"warm_start", "retry_delays"}
ATTRIBUTE_WAIT = 3600.0


class CommandManager:
    """The subprocess of one run/resume: its command, ``process`` (``returncode``), the files
    its stdout/stderr are written to (``log_files``), and whether ``wait`` timed it out."""

    def __init__(self, command: list[str], env: dict, cwd: str, show_output: bool):
        self.command = command
        self.timeout = False
        self._dir = tempfile.mkdtemp(prefix="sfncompile-runner-")
        self.log_files = {"stdout": os.path.join(self._dir, "stdout.log"),
                          "stderr": os.path.join(self._dir, "stderr.log")}
        self.process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._pumps = [threading.Thread(target=_pump, args=(stream, self.log_files[name],
                                                            echo if show_output else None), daemon=True)
                       for name, stream, echo in (("stdout", self.process.stdout, sys.stdout),
                                                  ("stderr", self.process.stderr, sys.stderr))]
        for pump in self._pumps:
            pump.start()

    def sync_wait(self, timeout: Optional[float] = None) -> None:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.timeout = True
            self.kill()
            self.process.wait()
        for pump in self._pumps:
            pump.join()

    async def wait(self, timeout: Optional[float] = None, stream: Optional[str] = None) -> None:
        if stream is not None:
            async def follow():
                async for _, line in self.stream_log(stream):
                    print(line)
            follower = asyncio.ensure_future(follow())
        await asyncio.get_running_loop().run_in_executor(None, self.sync_wait, timeout)
        if stream is not None:
            await follower

    async def stream_log(self, stream: str, position: Optional[int] = None):
        """(position, line) for each line of ``stream``, following it until the process ends."""
        path = self.log_files[stream]
        position = position or 0
        while True:
            done = self.process.poll() is not None and not any(p.is_alive() for p in self._pumps)
            with open(path, "rb") as src:
                src.seek(position)
                while True:
                    line = src.readline()
                    if not line or not line.endswith(b"\n") and not done:
                        break
                    position = src.tell()
                    yield position, line.decode("utf-8", "replace").rstrip("\n")
            if done:
                return
            await asyncio.sleep(0.1)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def cleanup(self) -> None:
        import shutil

        shutil.rmtree(self._dir, ignore_errors=True)


def _pump(stream, path: str, echo) -> None:
    with open(path, "wb") as out:
        for chunk in iter(lambda: stream.read1(65536), b""):
            out.write(chunk)
            out.flush()
            if echo is not None:
                try:
                    echo.write(chunk.decode("utf-8", "replace"))
                    echo.flush()
                except Exception:
                    pass
    stream.close()


class ExecutingRun:
    """A run started by ``Runner``: ``.run`` (client ``Run``), ``.status``, ``.returncode``,
    ``.stdout``/``.stderr``, ``await .wait()``; a context manager like the ``Runner``."""

    def __init__(self, runner: "Runner", command_obj: CommandManager, run_obj):
        self.runner = runner
        self.command_obj = command_obj
        self.run = run_obj

    def __enter__(self) -> "ExecutingRun":
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.runner.__exit__(exc_type, exc_value, traceback)

    async def __aenter__(self) -> "ExecutingRun":
        return self

    async def __aexit__(self, exc_type, exc_value, traceback):
        self.runner.__exit__(exc_type, exc_value, traceback)

    async def wait(self, timeout: Optional[float] = None, stream: Optional[str] = None) -> "ExecutingRun":
        await self.command_obj.wait(timeout, stream)
        return self

    @property
    def returncode(self) -> Optional[int]:
        return self.command_obj.process.returncode

    @property
    def status(self) -> str:
        if self.command_obj.timeout:
            return "timeout"
        code = self.command_obj.process.poll()
        if code is None:
            return "running"
        return "failed" if code != 0 else "successful"

    def _read(self, name: str) -> str:
        with open(self.command_obj.log_files[name], encoding="utf-8", errors="replace") as src:
            return src.read()

    @property
    def stdout(self) -> str:
        return self._read("stdout")

    @property
    def stderr(self) -> str:
        return self._read("stderr")

    async def stream_log(self, stream: str, position: Optional[int] = None):
        async for item in self.command_obj.stream_log(stream, position):
            yield item


class Runner:
    """Run (and resume) a flow file locally, as Metaflow's ``Runner`` does."""

    def __init__(self, flow_file: str, show_output: bool = True, profile: Optional[str] = None,
                 env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None, file_read_timeout: int = 3600,
                 **kwargs):
        self.flow_file = os.path.abspath(flow_file)
        self.show_output = show_output
        self.env_vars = os.environ.copy()
        self.env_vars.update(env or {})
        self.cwd = cwd or os.getcwd()
        self.file_read_timeout = file_read_timeout
        self.config_args = _top_level_configs(kwargs)
        self.datastore = _top_level_datastore(kwargs)
        self._commands: list[CommandManager] = []

    # -- context manager ---------------------------------------------------------
    def __enter__(self) -> "Runner":
        return self

    async def __aenter__(self) -> "Runner":
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.cleanup()

    async def __aexit__(self, exc_type, exc_value, traceback):
        self.cleanup()

    def cleanup(self) -> None:
        """Stop what is still running and delete the log files."""
        for command in self._commands:
            command.kill()
            command.cleanup()
        self._commands.clear()

    # -- run / resume --------------------------------------------------------------
    def run(self, **kwargs) -> ExecutingRun:
        """Run the flow and wait for it to end (a failed run is returned, not raised)."""
        command, attributes = self._start("run", kwargs)
        return self._finish(command, attributes, wait=True)

    def resume(self, **kwargs) -> ExecutingRun:
        """Resume the latest (or ``origin_run_id``) run; ``step_to_rerun`` as ``resume STEP``."""
        command, attributes = self._start("resume", kwargs)
        return self._finish(command, attributes, wait=True)

    async def async_run(self, **kwargs) -> ExecutingRun:
        """Start the run; returns as soon as the run exists (``await result.wait()``)."""
        command, attributes = self._start("run", kwargs, show_output=False)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._finish, command, attributes, False)

    async def async_resume(self, **kwargs) -> ExecutingRun:
        command, attributes = self._start("resume", kwargs, show_output=False)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._finish, command, attributes, False)

    # -- internals -----------------------------------------------------------------
    def _start(self, mode: str, kwargs: dict, show_output: Optional[bool] = None):
        fd, attributes = tempfile.mkstemp(prefix="sfncompile-runner-", suffix=".json")
        os.close(fd)
        os.unlink(attributes)  # the command creates it when the run exists
        argv = command_line(mode, self.flow_file, kwargs, self.datastore) + self.config_args
        argv += ["--runner-attribute-file", attributes]
        command = CommandManager([sys.executable, "-m", "sfncompile.cli.main", *argv], self.env_vars, self.cwd,
                                 self.show_output if show_output is None else show_output)
        self._commands.append(command)
        return command, attributes

    def _finish(self, command: CommandManager, attributes: str, wait: bool) -> ExecutingRun:
        content = self._read_attributes(command, attributes)
        if wait:
            command.sync_wait()
        return ExecutingRun(self, command, self._client_run(content))

    def _read_attributes(self, command: CommandManager, path: str) -> dict:
        deadline = time.monotonic() + self.file_read_timeout
        while True:
            if os.path.exists(path):
                with open(path, encoding="utf-8") as src:
                    content = json.load(src)
                os.unlink(path)
                return content
            if command.process.poll() is not None:
                for pump in command._pumps:
                    pump.join()
                with open(command.log_files["stdout"], encoding="utf-8", errors="replace") as out, \
                        open(command.log_files["stderr"], encoding="utf-8", errors="replace") as err:
                    raise RuntimeError(f"Error executing: '{' '.join(command.command)}':\n\n"
                                       f"{out.read()}\n{err.read()}")
            if time.monotonic() > deadline:
                command.kill()
                raise TimeoutError(f"the run did not start within {self.file_read_timeout} s: "
                                   f"{' '.join(command.command)}")
            time.sleep(0.05)

    @staticmethod
    def _client_run(content: dict):
        # Point the client at the datastore the run wrote (Metaflow's Runner hands its Run
        # the run's metadata provider likewise).
        root = content.get("datastore")
        if root:
            from .client import datastore_root

            if datastore_root() != root:
                os.environ[envnames.DATASTORE] = root
        from .client import Run

        return Run(f"{content['flow_name']}/{content['run_id']}", _namespace_check=False)


def _top_level_configs(options: dict) -> list[str]:
    """Metaflow's top-level ``config=[(NAME, PATH), ...]`` and ``config_value=[(NAME, VALUE), ...]``
    (a VALUE a dict or JSON text; a mapping NAME -> ... is taken too) as our command's options;
    removed from ``options``."""
    argv: list[str] = []
    for key, option in (("config", "--config"), ("config_value", "--config-value")):
        given = options.pop(key, None)
        if not given:
            continue
        pairs = given.items() if isinstance(given, dict) else given
        for pair in pairs:
            try:
                name, value = pair
            except (TypeError, ValueError):
                raise TypeError(f"Runner({key}=...) takes (name, value) pairs, got {pair!r}") from None
            if key == "config_value" and not isinstance(value, str):
                value = json.dumps(value)
            argv += [option, str(name), str(value)]
    return argv


def _top_level_datastore(options: dict) -> Optional[str]:
    """The datastore root chosen by Metaflow-style top-level options, or None (the default)."""
    options = dict(options)
    root = options.pop("datastore_root", None)
    datastore = options.pop("datastore", None)
    if datastore is not None and str(datastore) not in DATASTORE_TYPES and root is None:
        root = str(datastore)  # sfncompile's own --datastore: a directory or s3:// URL
    unknown = sorted(set(options) - IGNORED_TOP_LEVEL)
    if unknown:
        raise TypeError(f"Runner() got option(s) sfncompile does not know: {', '.join(unknown)} "
                        f"(accepted: datastore, datastore_root, config, config_value, "
                        f"{', '.join(sorted(IGNORED_TOP_LEVEL))})")
    return root


def command_line(mode: str, flow_file: str, kwargs: dict, datastore: Optional[str]) -> list[str]:
    """``sfncompile run|resume FLOW ...`` for ``run(**kwargs)``/``resume(**kwargs)``."""
    kwargs = dict(kwargs)
    argv = [mode, flow_file]
    if mode == "resume":
        step = kwargs.pop("step_to_rerun", None) or kwargs.pop("step", None)
        if step:
            argv.append(str(step))
    if datastore and "datastore" not in kwargs:
        argv += ["--datastore", datastore]
    tags = list(kwargs.pop("tags", None) or []) + list(kwargs.pop("tag", None) or [])
    for tag in tags:
        argv += ["--tag", str(tag)]
    for name in list(kwargs):
        value = kwargs[name]
        if name in IGNORED_RUN_OPTIONS or value is None:
            kwargs.pop(name)
            continue
        if name in VALUE_OPTIONS:
            argv += ["--" + name.replace("_", "-"), str(kwargs.pop(name))]
        elif name in FLAG_OPTIONS:
            kwargs.pop(name)
            argv.append(("--" if value else "--no-") + name.replace("_", "-"))
    if mode == "resume" and kwargs:
        raise TypeError(f"resume() got unexpected option(s): {', '.join(sorted(kwargs))} "
                        "(a resume reuses the origin run's parameters)")
    for name, value in kwargs.items():  # the flow's parameters, as Metaflow's --NAME VALUE
        argv += ["--" + name, _parameter_text(value)]
    return argv


def _parameter_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
