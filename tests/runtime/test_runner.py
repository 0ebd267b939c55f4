"""The Runner API (Metaflow's shape), running flows through `sfncompile run`/`resume` in a subprocess."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from tests.executor.conftest import FLOWS

INCLUDE = str(FLOWS / "include_file" / "include_flow.py")
LOOP = str(FLOWS / "loop_resume_flow.py")


@pytest.fixture
def runner_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SFNCOMPILE_DATASTORE", str(tmp_path / "datastore"))
    monkeypatch.setenv("SFNCOMPILE_CODE_CACHE", str(tmp_path / "code-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return {"SFNCOMPILE_DATASTORE": str(tmp_path / "datastore")}


def test_run_with_metaflow_options_returns_an_executing_run(runner_env, tmp_path):
    from sfncompile import Runner

    id_file = tmp_path / "run-id"
    # Metaflow's core-suite driver passes these top-level options; their local values change nothing.
    with Runner(INCLUDE, show_output=False, env=runner_env, metadata="local", datastore="local",
                environment="local", event_logger="nullSidecarLogger", pylint=False, quiet=True) as runner:
        result = runner.run(greeting="hi", max_workers=4, max_num_splits=10000, run_id_file=str(id_file),
                            tags=["刺身 means sashimi", "multiple tags should be ok"])
        assert result.status == "successful" and result.returncode == 0
        assert result.run.id == id_file.read_text()
        assert result.run.successful
        assert result.run["start"].task.data.greeting == "hi"
        assert result.run.data.count == 2
        assert result.stdout.strip().splitlines()[-1] == result.run.id  # the CLI prints the run id
        assert "succeeded" in result.stderr
        assert result.command_obj.process.returncode == 0 and "run" in result.command_obj.command
        assert open(result.command_obj.log_files["stderr"], encoding="utf-8").read() == result.stderr


def test_failed_run_then_resume(runner_env):
    from sfncompile import Runner

    with Runner(LOOP, show_output=False, env=runner_env) as runner:
        failed = runner.run()
        assert failed.status == "failed" and failed.returncode == 1
        assert not failed.run.successful
        resumed = runner.resume(origin_run_id=failed.run.id)
        assert resumed.status == "successful"
        assert resumed.run.data.final == 10
        again = runner.resume(step_to_rerun="exit_loop")
        assert again.status == "successful" and again.run["exit_loop"].task.data.count == 10


def test_async_run_returns_once_the_run_exists(runner_env):
    from sfncompile import Runner

    async def main():
        async with Runner(INCLUDE, env=runner_env) as runner:
            running = await runner.async_run(greeting="async")
            assert running.status in ("running", "successful")
            await running.wait()
            return running

    result = asyncio.run(main())
    assert result.status == "successful"
    assert result.run["start"].task.data.greeting == "async"


def test_an_invalid_invocation_raises_with_the_commands_output(runner_env):
    from sfncompile import Runner

    with Runner(INCLUDE, show_output=False, env=runner_env) as runner:
        with pytest.raises(RuntimeError, match="no such option: --nope"):
            runner.run(nope=1)
    with pytest.raises(TypeError, match="does not know: with_nothing"):
        Runner(INCLUDE, with_nothing=True)


def test_runner_is_imported_lazily():
    """`from metaflow import Runner` works in user code, but a task's start-up never imports it."""
    code = ("import sys; import sfncompile_runtime.api as api; assert 'sfncompile_runtime.runner' not in sys.modules;"
            "from sfncompile_runtime.api import Runner; assert 'sfncompile_runtime.runner' in sys.modules;"
            "assert 'click' not in sys.modules and 'libcst' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
