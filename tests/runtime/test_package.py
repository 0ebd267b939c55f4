"""The code package: deterministic, content-addressed, honours ignore lists."""

from __future__ import annotations

import io
import tarfile

from sfncompile.package import build_code_package, store_code_package


def _flow_dir(tmp_path):
    root = tmp_path / "proj"
    (root / "lib").mkdir(parents=True)
    (root / "flow.py").write_text("from sfncompile import FlowSpec\n")
    (root / "lib" / "helpers.py").write_text("X = 1\n")
    (root / "notes.txt").write_text("not python\n")
    for ignored in (".venv/lib", "__pycache__", ".git", "build", "secret"):
        (root / ignored).mkdir(parents=True, exist_ok=True)
        (root / ignored / "junk.py").write_text("JUNK = 1\n")
    (root / ".sfncompileignore").write_text("# comment\nsecret/\n")
    return root


def _names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return [m.name for m in tar.getmembers() if m.isfile()]


def test_package_is_deterministic_and_complete(tmp_path):
    root = _flow_dir(tmp_path)
    graph = {"name": "Demo", "steps": {}}
    first = build_code_package(graph, root / "flow.py")
    (root / "flow.py").touch()  # mtimes do not matter
    second = build_code_package(graph, root / "flow.py")
    assert first.data == second.data and first.sha256 == second.sha256
    names = _names(first.data)
    assert names == sorted(names)
    assert {"flow.py", "lib/helpers.py", "graph.json", "sfncompile_package.json",
            "sfncompile_runtime/main.py", "sfncompile_runtime/bootstrap.py"} <= set(names)
    assert not any(n.startswith((".venv", "__pycache__", ".git", "build", "secret")) for n in names)
    assert "notes.txt" not in names
    with tarfile.open(fileobj=io.BytesIO(first.data)) as tar:
        assert all(m.mtime == 0 and m.uid == 0 and m.uname == "" for m in tar.getmembers())
    (root / "lib" / "helpers.py").write_text("X = 2\n")
    assert build_code_package(graph, root / "flow.py").sha256 != first.sha256


def test_store_skips_an_existing_package(tmp_path):
    root = _flow_dir(tmp_path)
    package = build_code_package({"name": "Demo", "steps": {}}, root / "flow.py")
    url = store_code_package(package, str(tmp_path / "ds"), "Demo")
    assert url == str(tmp_path / "ds" / "Demo" / "code" / f"{package.sha256}.tar.gz")
    with open(url, "rb") as src:
        assert src.read() == package.data
    mtime = (tmp_path / "ds" / "Demo" / "code" / f"{package.sha256}.tar.gz").stat().st_mtime_ns
    assert store_code_package(package, str(tmp_path / "ds"), "Demo") == url
    assert (tmp_path / "ds" / "Demo" / "code" / f"{package.sha256}.tar.gz").stat().st_mtime_ns == mtime


def test_store_on_s3(aws, tmp_path):
    import boto3

    boto3.client("s3").create_bucket(Bucket="code")
    root = _flow_dir(tmp_path)
    package = build_code_package({"name": "Demo", "steps": {}}, root / "flow.py")
    url = store_code_package(package, "s3://code/pre", "Demo")
    assert url == f"s3://code/pre/Demo/code/{package.sha256}.tar.gz"
    body = boto3.client("s3").get_object(Bucket="code", Key=f"pre/Demo/code/{package.sha256}.tar.gz")["Body"].read()
    assert body == package.data


def test_bootstrap_uses_the_contract_names():
    """The bootstrap is a self-contained string: its variable names must be envnames'."""
    import re

    from sfncompile_runtime import envnames
    from sfncompile_runtime.bootstrap import BOOTSTRAP_SOURCE

    read = set(re.findall(r"E\['(SFNCOMPILE_[A-Z0-9_]+)'\]", BOOTSTRAP_SOURCE))
    assert {envnames.CODE_URL, envnames.CODE_SHA256, envnames.PACKAGE_DIR} <= read
    assert read <= {value for name, value in vars(envnames).items() if name.isupper()}
