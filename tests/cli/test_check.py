"""``sfncompile check``: text and JSON output, exit codes, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from sfncompile.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

CLEAN = textwrap.dedent("""
    from sfncompile import FlowSpec, step

    class CleanFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
""").lstrip()

# Two front-end errors on known lines; the lint may add its own.
BROKEN = textwrap.dedent("""
    import os
    from sfncompile import FlowSpec, step, resources

    class BrokenFlow(FlowSpec):
        @resources(cpu=os.cpu_count())
        @step
        def start(self):
            self.next(self.end)

        @step
        @resources(memory=1024)
        def end(self):
            pass
""").lstrip()


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_clean_flow_exits_zero(tmp_path):
    path = write(tmp_path, "clean.py", CLEAN)
    result = run("check", path)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{path}: ok (CleanFlow, 2 steps)"


def test_errors_with_source_line_and_caret(tmp_path):
    path = write(tmp_path, "broken.py", BROKEN)
    result = run("check", path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    first = lines.index(next(line for line in lines if "SFN005" in line))
    assert lines[first].startswith(f"{path}:5:20: error[SFN005]: @resources(cpu=...)")
    assert lines[first + 1] == "        @resources(cpu=os.cpu_count())"
    assert lines[first + 2] == "                       ^~~~~~~~~~~~~~"
    assert any(line.startswith(f"{path}:11:6: error[SFN009]:") for line in lines)
    assert lines[-1].startswith(f"{path}: ") and "error" in lines[-1]


def test_warnings_come_after_errors_and_do_not_fail(tmp_path):
    warn_only = CLEAN.replace("class CleanFlow(FlowSpec):",
                              "class CleanFlow(FlowSpec):\n    x = Parameter('x', colour=1)").replace(
        "import FlowSpec, step", "import FlowSpec, Parameter, step")
    path = write(tmp_path, "warn.py", warn_only)
    result = run("check", path)
    assert "warning[SFN010]" in result.output
    assert result.exit_code == 0, result.output
    both = write(tmp_path, "both.py", warn_only.replace("self.next(self.end)", "self.next(self.end)\n        x = 1"))
    result = run("check", both)
    assert result.exit_code == 1
    kinds = [line.split(": ")[1].split("[")[0] for line in result.output.splitlines()
             if line.startswith(both + ":") and "[" in line]
    assert kinds == sorted(kinds)  # every "error" before every "warning"
    assert "warning" in kinds and "error" in kinds


def test_json_format(tmp_path):
    path = write(tmp_path, "broken.py", BROKEN)
    result = run("check", path, "--format", "json")
    assert result.exit_code == 1
    items = json.loads(result.output)
    assert isinstance(items, list)
    mine = [i for i in items if i["rule"] == "SFN005"]
    assert mine == [{"file": path, "line": 5, "col": 20, "end_line": 5, "end_col": 34, "severity": "error",
                     "rule": "SFN005", "message": mine[0]["message"]}]
    clean = run("check", write(tmp_path, "clean.py", CLEAN), "--format", "json")
    assert clean.exit_code == 0 and json.loads(clean.output) == []


def test_syntax_error_is_reported_like_other_errors(tmp_path):
    path = write(tmp_path, "syntax.py", "from sfncompile import FlowSpec\nclass F(FlowSpec)\n    pass\n")
    result = run("check", path)
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(f"{path}:2:18: error[SFN001]: Python syntax error")


def test_several_flows_and_flow_option(tmp_path):
    two = CLEAN + "\n\n" + CLEAN.split("\n", 1)[1].replace("CleanFlow", "OtherFlow")
    path = write(tmp_path, "two.py", two)
    result = run("check", path)
    assert result.exit_code == 1 and "error[SFN003]" in result.output and "--flow" in result.output
    result = run("check", path, "--flow", "OtherFlow")
    assert result.exit_code == 0, result.output
    assert "OtherFlow" in result.output


@pytest.mark.parametrize("target", ["missing.py", "."])
def test_unreadable_file_is_one_clean_line(tmp_path, target):
    path = str(tmp_path / target) if target != "." else str(tmp_path)
    result = CliRunner().invoke(cli, ["check", path])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert path in result.output and result.output.count("\n") == 1


def test_examples_are_clean():
    for example in sorted(EXAMPLES.glob("*.py")):
        result = run("check", str(example))
        assert result.exit_code == 0, result.output


def test_real_subprocess(tmp_path):
    path = write(tmp_path, "broken.py", BROKEN)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "runtime")]))
    proc = subprocess.run([sys.executable, "-m", "sfncompile.cli.main", "check", path], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 1
    assert f"{path}:5:20: error[SFN005]" in proc.stdout
    assert "Traceback" not in proc.stderr
    ok = subprocess.run([sys.executable, "-m", "sfncompile.cli.main", "check", str(EXAMPLES / "train_evaluate.py")],
                        capture_output=True, text=True, env=env, timeout=60)
    assert ok.returncode == 0 and ok.stdout.strip().endswith("steps)")


def test_cli_import_does_not_load_libcst():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "runtime")]))
    code = "import sys, sfncompile.cli.main; print('libcst' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


def test_diagnostic_without_a_span_names_the_file():
    from sfncompile.cli.check import with_source
    from sfncompile.diagnostics import Diagnostic
    from sfncompile.ir import Span

    assert with_source(Diagnostic("SFN123", "about the whole flow"), [], "f.py") == \
        "f.py: error[SFN123]: about the whole flow"
    beyond = Diagnostic("SFN123", "past the end", Span("f.py", 9, 1))
    assert with_source(beyond, ["x = 1"], "f.py") == "f.py:9:1: error[SFN123]: past the end"
    tabbed = Diagnostic("SFN123", "m", Span("f.py", 1, 3, 1, 6))
    assert with_source(tabbed, ["\t\tabc"], "f.py").splitlines()[1:] == ["    \t\tabc", "    \t\t^~~"]
