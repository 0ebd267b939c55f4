"""``sfncompile compile`` and ``sfncompile cost`` through click."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sfncompile.cli.main import cli

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden" / "asl"
SWEEP = str(ROOT / "examples" / "hyperparameter_sweep.py")
NESTED = str(ROOT / "examples" / "nested_foreach.py")


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_compile_prints_the_golden_definition():
    result = invoke("compile", SWEEP)
    assert result.exit_code == 0, result.output
    assert result.output == (GOLDEN / "example_hyperparameter_sweep.json").read_text()


def test_compile_to_file_minified(tmp_path):
    out = tmp_path / "sm.json"
    result = invoke("compile", SWEEP, "-o", str(out), "--minify")
    assert result.exit_code == 0 and result.output == ""
    text = out.read_text()
    assert "\n" not in text.rstrip("\n")
    assert json.loads(text) == json.loads((GOLDEN / "example_hyperparameter_sweep.json").read_text())


def test_substitute_fills_every_placeholder():
    result = invoke("compile", SWEEP, "--substitute", "JobQueue=queue-1", "--substitute",
                    "JobDefinitionDefault=jd-default", "--substitute", "JobDefinitionC1M1024=jd-small",
                    "--substitute", "SideChannelTable=side", "--substitute", "MapResultBucket=bucket")
    assert result.exit_code == 0, result.output
    assert "${" not in result.output
    data = json.loads(result.output)
    assert data["States"]["start"]["Parameters"]["JobQueue"] == "queue-1"


def test_substitute_requires_all_and_knows_names():
    result = CliRunner().invoke(cli, ["compile", SWEEP, "--substitute", "JobQueue=q"])
    assert result.exit_code == 1 and "no value for placeholder(s)" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["compile", SWEEP, "--substitute", "Nope=1"])
    assert result.exit_code == 1 and "no placeholder Nope" in result.output
    result = CliRunner().invoke(cli, ["compile", SWEEP, "--substitute", "novalue"])
    assert result.exit_code == 1 and "NAME=VALUE" in result.output


def test_substitute_takes_configuration(monkeypatch):
    monkeypatch.setenv("SFNCOMPILE_JOB_QUEUE", "from-env")
    monkeypatch.setenv("SFNCOMPILE_SIDE_CHANNEL_TABLE", "side-env")
    result = invoke("compile", SWEEP, "--substitute", "JobDefinitionDefault=a", "--substitute",
                    "JobDefinitionC1M1024=b", "--substitute", "MapResultBucket=c")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["States"]["start"]["Parameters"]["JobQueue"] == "from-env"


def test_foreach_mode_and_max_workers():
    result = invoke("compile", SWEEP, "--foreach-mode", "start=distributed", "--max-workers", "16")
    states = json.loads(result.output)["States"]
    assert "start.choice" not in states and states["start.dmap"]["MaxConcurrency"] == 16
    bad = CliRunner().invoke(cli, ["compile", SWEEP, "--foreach-mode", "sideways"])
    assert bad.exit_code == 1 and "not one of auto, inline, distributed" in bad.output
    bad = CliRunner().invoke(cli, ["compile", SWEEP, "--foreach-mode", "nostep=inline"])
    assert bad.exit_code == 1 and "no foreach step named nostep" in bad.output


def test_explain_report():
    result = invoke("compile", str(ROOT / "examples" / "nightly_report.py"), "--explain")
    assert result.exit_code == 0, result.output
    for section in ("States (", "Job definitions", "Retries, timeouts, catch", "Flow-level", "@schedule(",
                    "Placeholders to fill", "billable transitions"):
        assert section in result.output, section


def test_cost_text_and_json():
    result = invoke("cost", NESTED, "--width", "start=3", "--width", "load=4")
    assert result.exit_code == 0, result.output
    assert "billable transitions / run" in result.output and "OVER LIMIT" not in result.output
    data = json.loads(invoke("cost", NESTED, "--width", "start=3", "--width", "load=4", "--format", "json").output)
    assert data["widths"] == {"load": 4, "start": 3} and data["over_limits"] == []
    assert data["dollars"] == pytest.approx(data["transitions"] * 0.025 / 1000)


def test_cost_flags_a_limit_and_exits_1():
    result = CliRunner().invoke(cli, ["cost", SWEEP, "--foreach-mode", "inline", "--width", "start=5000"])
    assert result.exit_code == 1
    assert "OVER LIMIT" in result.output and "history events" in result.output


def test_cost_rounds():
    loop = str(ROOT / "examples" / "retrain_until_good.py")
    once = json.loads(invoke("cost", loop, "--format", "json").output)
    thrice = json.loads(invoke("cost", loop, "--rounds", "evaluate=3", "--format", "json").output)
    assert thrice["transitions"] == once["transitions"] + 2 * 4
    assert "loops counted once: evaluate" in invoke("cost", loop).output
    assert "loops counted once" not in invoke("cost", loop, "--rounds", "evaluate=2").output


def test_cost_bad_width():
    result = CliRunner().invoke(cli, ["cost", SWEEP, "--width", "start=many"])
    assert result.exit_code == 1 and "whole number" in result.output


def test_cost_width_names_the_foreach_step_not_its_body():
    result = CliRunner().invoke(cli, ["cost", SWEEP, "--width", "fit=1000"])
    assert result.exit_code == 1
    assert "no foreach step named fit" in result.output and "foreach steps: start" in result.output


def test_byte_identical_across_processes_and_hash_seeds():
    import os
    import subprocess
    import sys

    outputs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-m", "sfncompile.cli.main", "compile", NESTED], env=env,
                              capture_output=True, timeout=120, cwd=str(ROOT))
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1
