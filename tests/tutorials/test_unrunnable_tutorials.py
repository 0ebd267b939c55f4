"""Metaflow's tutorials 04 and 05, unchanged, which cannot run on this machine under Metaflow
either: sfncompile must fail loudly, never "succeed" differently.

* 05-hello-cloud sends a step to Kubernetes (``@kubernetes``); Metaflow needs a cluster.
  ``check`` refuses it at the decorator (steps run on AWS Batch).
* 04-playlist-plus needs conda (``@conda_base``/``@conda``); Metaflow 2.19.39 refuses to run it
  without ``--environment=conda`` and a conda executable. Without one here, our run fails
  naming @conda.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TUTORIALS = HERE / "metaflow_tutorials"


def _sfncompile(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "sfncompile.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=env)


def test_hello_cloud_is_refused_at_its_kubernetes_decorator(tmp_path):
    proc = _sfncompile("check", str(TUTORIALS / "05-hello-cloud" / "hello-cloud.py"), cwd=tmp_path)
    assert proc.returncode != 0
    assert "hello-cloud.py:30:6: error[SFN160]: @kubernetes is not supported" in proc.stdout + proc.stderr


@pytest.mark.skipif(any(shutil.which(tool) for tool in ("conda", "mamba", "micromamba")),
                    reason="a conda executable exists here: the run would build the environment")
def test_playlist_plus_fails_naming_conda(tmp_path):
    assert _sfncompile("check", str(TUTORIALS / "04-playlist-plus" / "playlist.py"), cwd=tmp_path).returncode == 0
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SFNCOMPILE_", "METAFLOW_"))}
    env.update({"SFNCOMPILE_DATASTORE": str(tmp_path / "store"), "METAFLOW_USER": "tester"})
    proc = _sfncompile("run", str(TUTORIALS / "04-playlist-plus" / "playlist.py"), "--quiet", cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert "uses @conda, but no conda, mamba or micromamba executable exists" in proc.stderr
