"""What a task imports was verified: the code cache is private to the user, every extracted file
matches the package's manifest (a marker written last says so), and modules beside the flow never
replace the runtime's own imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sfncompile.package import MANIFEST, _tarball
from sfncompile_runtime.bootstrap import BOOTSTRAP_SOURCE

from .harness import new_run_id


def test_a_planted_cache_directory_is_never_imported(local_backend):
    driver = local_backend.driver("linear_flow.py")
    planted = driver.cache_dir / driver.package.sha256 / "sfncompile_runtime"
    planted.mkdir(parents=True)
    (planted / "__init__.py").write_text("")
    (planted / "main.py").write_text("def main(argv):\n    print('PLANTED CODE RAN')\n    return 0\n")
    proc = driver.run_step("start", new_run_id())
    assert proc.returncode == 0, proc.stderr
    assert "PLANTED" not in proc.stdout + proc.stderr
    assert (driver.cache_dir / driver.package.sha256 / ".sfncompile-verified").read_text() == driver.package.sha256


def test_the_cache_is_created_private(local_backend):
    driver = local_backend.driver("linear_flow.py")
    assert driver.run_step("start", new_run_id()).returncode == 0
    assert driver.cache_dir.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("how", ["writable-by-others", "owned-by-another-user"])
def test_a_cache_directory_others_control_is_refused(local_backend, how):
    driver = local_backend.driver("linear_flow.py")
    driver.cache_dir.mkdir(parents=True, exist_ok=True)
    if how == "writable-by-others":
        os.chmod(driver.cache_dir, 0o777)
    else:
        if os.getuid() != 0:
            pytest.skip("chown to another user needs root")
        os.chown(driver.cache_dir, 65534, 65534)
    proc = driver.run_step("start", new_run_id())
    assert proc.returncode != 0
    assert f"the code cache {driver.cache_dir} is not private" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_default_cache_is_per_user(local_backend, tmp_path):
    driver = local_backend.driver("linear_flow.py")
    env = driver.env(SFNCOMPILE_RUN_ID=new_run_id(), SFNCOMPILE_PARAMETERS="{}")
    env.pop("SFNCOMPILE_CODE_CACHE")
    env["TMPDIR"] = str(tmp_path / "shared-tmp")
    (tmp_path / "shared-tmp").mkdir()
    proc = subprocess.run([sys.executable, "-c", BOOTSTRAP_SOURCE, "step", "start"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    cache = tmp_path / "shared-tmp" / f"sfncompile-code-{os.getuid()}"
    assert cache.stat().st_mode & 0o777 == 0o700 and (cache / driver.package.sha256).is_dir()


def test_files_that_do_not_match_the_manifest_are_refused(local_backend, tmp_path):
    """A package (hash-correct) whose extracted files differ from its own manifest never runs."""
    import hashlib

    driver = local_backend.driver("linear_flow.py")
    entries = {"sfncompile_runtime/__init__.py": b"", "sfncompile_runtime/main.py": b"def main(a):\n    return 0\n",
               "graph.json": b"{}"}
    files = {name: hashlib.sha256(data).hexdigest() for name, data in entries.items()}
    files["sfncompile_runtime/main.py"] = "0" * 64  # what was meant to be shipped differs
    entries[MANIFEST] = json.dumps({"flow": "LinearFlow", "flow_file": "x.py", "files": files}).encode()
    data = _tarball(entries)
    path = tmp_path / "forged.tar.gz"
    path.write_bytes(data)
    proc = driver.run_step("start", new_run_id(), extra={
        "SFNCOMPILE_CODE_URL": str(path), "SFNCOMPILE_CODE_SHA256": hashlib.sha256(data).hexdigest()})
    assert proc.returncode != 0 and "do not match its manifest" in proc.stderr
    assert not (driver.cache_dir / hashlib.sha256(data).hexdigest()).exists()


def test_modules_beside_the_flow_never_shadow_the_runtime(local_backend):
    """json.py, signal.py, hashlib.py ... next to the flow, and the task started from that directory."""
    driver = local_backend.driver("shadowing/shadow_flow.py")
    run_id = new_run_id()
    for step in ("start", "end"):
        env = driver.env(SFNCOMPILE_RUN_ID=run_id, SFNCOMPILE_INDEX_PATH="", SFNCOMPILE_RETRY_COUNT="0",
                         SFNCOMPILE_PARAMETERS="{}" if step == "start" else None)
        proc = subprocess.run([sys.executable, "-c", BOOTSTRAP_SOURCE, "step", step], env=env, capture_output=True,
                              text=True, timeout=120, cwd=str(driver.flow_path.parent))
        assert proc.returncode == 0, proc.stderr
    from sfncompile_runtime.datastore import Datastore

    store = Datastore(local_backend.datastore, "ShadowFlow")
    assert store.load_artifact(store.latest_record(run_id, "end", "2")["artifacts"]["total"]) == 42


def _pyc(directory, module: str):
    import importlib.util

    return importlib.util.cache_from_source(str(directory / "sfncompile_runtime" / f"{module}.py"))


def test_packages_of_the_same_runtime_share_compiled_files(local_backend):
    """A new package (an edited flow, a copy elsewhere) links the runtime's compiled files from
    the cache instead of compiling them again; each still names its own source."""
    first = local_backend.driver("linear_flow.py")
    second = local_backend.driver("branch_flow.py")
    assert first.package.sha256 != second.package.sha256
    for driver in (first, second):
        assert driver.run_step("start", new_run_id()).returncode == 0
    one, two = (Path(_pyc(first.cache_dir / d.package.sha256, "main")) for d in (first, second))
    assert one.stat().st_ino == two.stat().st_ino  # one file, linked from the shared cache
    where = subprocess.run([sys.executable, "-c", "import sfncompile_runtime.main as m; "
                            "print(m.main.__code__.co_filename)"], capture_output=True, text=True, check=True,
                           env=dict(os.environ, PYTHONPATH=str(second.cache_dir / second.package.sha256)),
                           cwd=str(second.cache_dir)).stdout.strip()
    assert where == str(second.cache_dir / second.package.sha256 / "sfncompile_runtime" / "main.py")


def test_a_shared_compiled_file_of_another_source_is_not_used(local_backend, tmp_path):
    import hashlib
    import py_compile

    first = local_backend.driver("linear_flow.py")
    assert first.run_step("start", new_run_id()).returncode == 0
    source = (first.cache_dir / first.package.sha256 / "sfncompile_runtime" / "main.py").read_bytes()
    # The shared entry for main.py's exact source replaced by the compiled form of other code.
    planted = tmp_path / "planted.py"
    planted.write_text("def main(argv):\n    print('PLANTED CODE RAN')\n    return 0\n")
    entry = first.cache_dir / "pyc" / (hashlib.sha256(source).hexdigest() + "." + Path(_pyc(tmp_path, "main")).name)
    assert entry.is_file()
    entry.unlink()
    py_compile.compile(str(planted), str(entry), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    second = local_backend.driver("branch_flow.py")
    proc = second.run_step("start", new_run_id())
    assert proc.returncode == 0, proc.stderr
    assert "PLANTED" not in proc.stdout + proc.stderr
    assert b"PLANTED" not in Path(_pyc(second.cache_dir / second.package.sha256, "main")).read_bytes()
