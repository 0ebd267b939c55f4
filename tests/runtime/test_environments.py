"""@pypi builds a cached environment per spec; @conda without conda fails clearly."""

from __future__ import annotations

import os

import shutil

import pytest

from .harness import new_run_id


def test_pypi_step_gets_its_package_and_reuses_the_cache(local_backend, client_root):
    import importlib.util

    assert importlib.util.find_spec("humanize") is None  # absent from the base environment
    driver = local_backend.driver("pypi_flow.py")
    first = new_run_id()
    assert driver.run_step("start", first).returncode == 0
    proc = driver.run_step("fmt", first, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "building the @pypi environment of step 'fmt'" in proc.stderr
    client = client_root(local_backend)
    data = client.Run(f"PypiFlow/{first}")["fmt"].task.data
    assert data.text == "1,234,567"
    assert "/.cache/pypi/" in data.where  # from the cached environment, not the base one
    assert data.python.startswith(local_backend.datastore) and not data.sees_base_packages  # exactly those
    second = new_run_id()
    assert driver.run_step("start", second).returncode == 0
    proc = driver.run_step("fmt", second)
    assert proc.returncode == 0, proc.stderr
    assert "building the @pypi environment" not in proc.stderr  # reused
    assert client.Run(f"PypiFlow/{second}")["fmt"].task.data.where == data.where
    # a step without @pypi does not see the package
    assert driver.run_step("end", second).returncode == 0

    # a damaged environment (its interpreter link gone) is set aside and built again, not a traceback
    venv = os.path.dirname(os.path.dirname(data.python))
    os.unlink(os.path.join(venv, "bin", "python"))
    third = new_run_id()
    assert driver.run_step("start", third).returncode == 0
    proc = driver.run_step("fmt", third, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert f"the @pypi environment {venv} was incomplete or damaged; building it again" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert client.Run(f"PypiFlow/{third}")["fmt"].task.data.text == "1,234,567"


@pytest.mark.skipif(any(shutil.which(n) for n in ("micromamba", "mamba", "conda")),
                    reason="this check is about images without conda")
def test_conda_without_conda_is_a_clear_error(local_backend):
    driver = local_backend.driver("conda_flow.py")
    proc = driver.run_step("start", new_run_id())
    assert proc.returncode == 1
    assert "step 'start' uses @conda, but no conda, mamba or micromamba executable exists" in proc.stderr


def test_pypi_on_s3_is_built_once_and_shared_as_a_tarball(s3_backend, tmp_path, client_root):
    import boto3

    first_tmp, second_tmp = tmp_path / "host1", tmp_path / "host2"
    first_tmp.mkdir()
    second_tmp.mkdir()
    driver = s3_backend.driver("pypi_flow.py", TMPDIR=str(first_tmp))
    run_id = new_run_id()
    assert driver.run_step("start", run_id).returncode == 0
    proc = driver.run_step("fmt", run_id, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "building the @pypi environment" in proc.stderr
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="sfn-data", Prefix="root/")
            .get("Contents", []) if "/.cache/pypi/" in o["Key"]]
    # inside the flow's own prefix (the only place its job role may write), with its checksum
    assert sorted(k.rsplit(".tar.gz", 1)[1] for k in keys) == ["", ".sha256"]
    assert all(k.startswith("root/PypiFlow/.cache/pypi/") for k in keys)
    # another "host" (empty TMPDIR): unpacks the tarball instead of running pip
    driver.extra_env["TMPDIR"] = str(second_tmp)
    proc = driver.run_step("fmt", run_id)
    assert proc.returncode == 0, proc.stderr
    assert "building the @pypi environment" not in proc.stderr
    assert "unpacking the cached @pypi environment of step 'fmt'" in proc.stderr
    client = client_root(s3_backend)
    data = client.Run(f"PypiFlow/{run_id}")["fmt"].task.data
    assert data.text == "1,234,567" and data.where.startswith(str(second_tmp / f"sfncompile-pypi-{os.getuid()}"))
    assert not data.sees_base_packages
    assert (second_tmp / f"sfncompile-pypi-{os.getuid()}").stat().st_mode & 0o777 == 0o700

    # a damaged tarball (one flipped byte) is refused and rebuilt, never unpacked
    tarball = next(k for k in keys if k.endswith(".tar.gz"))
    s3 = boto3.client("s3")
    body = bytearray(s3.get_object(Bucket="sfn-data", Key=tarball)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    s3.put_object(Bucket="sfn-data", Key=tarball, Body=bytes(body))
    third_tmp = tmp_path / "host3"
    third_tmp.mkdir()
    driver.extra_env["TMPDIR"] = str(third_tmp)
    proc = driver.run_step("fmt", run_id, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "does not match its checksum" in proc.stderr and "building the @pypi environment" in proc.stderr
