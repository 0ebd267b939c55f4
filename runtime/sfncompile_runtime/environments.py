"""Per-step software environments: ``@environment``, ``@pypi``, ``@conda``.

``@pypi(packages=..., python=...)``: the packages are installed once per
distinct spec (``pip install --target``) into a directory named by the spec's
hash and put first on ``sys.path`` before the flow is imported. Cache:

* local datastore: ``<root>/.cache/pypi/<hash>/``;
* S3 datastore: a tarball ``<root>/.cache/pypi/<hash>.tar.gz`` built at first
  use (by whichever task gets there first) and unpacked into
  ``$TMPDIR/sfncompile-pypi/<hash>`` by later tasks.

``python=`` must match the running interpreter's ``major.minor`` (the image
decides the interpreter), else the step fails saying so. ``@conda`` runs only
where ``micromamba``/``mamba``/``conda`` exists; otherwise a clear error
naming the step. Nothing is silently ignored.
"""

from __future__ import annotations


import json
import os
import sys

from . import graphinfo


class EnvironmentError_(Exception):
    pass


def prepare_environment(task) -> None:
    env_args = graphinfo.decorator_args(task.node, "environment")
    if env_args:
        for key, value in (env_args.get("vars") or {}).items():
            os.environ.setdefault(key, str(value))
    pypi = graphinfo.effective_environment_spec(task.graph, task.node, "pypi")
    if pypi is not None and (pypi.get("packages") or pypi.get("python")):
        path = ensure_pypi(task.store.storage, pypi, task.step)
        if path:
            sys.path.insert(0, path)
    conda = graphinfo.effective_environment_spec(task.graph, task.node, "conda")
    if conda is not None and (conda.get("packages") or conda.get("libraries") or conda.get("python")):
        ensure_conda(task.store.storage, conda, task.step)


def requirement(name: str, version: str) -> str:
    version = (version or "").strip()
    if not version:
        return name
    if version[0] in "<>=!~":
        return f"{name}{version}"
    return f"{name}=={version}"


def spec_hash(kind: str, args: dict) -> str:
    import hashlib
    import platform

    key = {"kind": kind, "packages": dict(sorted((args.get("packages") or {}).items())),
           "libraries": dict(sorted((args.get("libraries") or {}).items())),
           "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
           "platform": f"{sys.platform}-{platform.machine()}"}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


def _check_python(args: dict, step: str, kind: str) -> None:
    wanted = args.get("python")
    if not wanted:
        return
    have = f"{sys.version_info[0]}.{sys.version_info[1]}"
    parts = str(wanted).split(".")
    if ".".join(parts[:2]) != have and parts[0] != str(wanted):  # "3" matches any 3.x
        raise RuntimeError(f"step '{step}': @{kind}(python='{wanted}') needs Python {wanted}, but this image "
                           f"runs Python {have}; use an image with Python {wanted} or drop python=")


def ensure_pypi(storage, args: dict, step: str) -> str | None:
    _check_python(args, step, "pypi")
    packages = args.get("packages") or {}
    if not packages:
        return None
    digest = spec_hash("pypi", args)
    if storage.is_local:
        target = os.path.join(storage.root, ".cache", "pypi", digest)
        if not os.path.isdir(target):
            _pip_install(packages, target, step)
        return target
    target = os.path.join(os.environ.get("TMPDIR", "/tmp"), "sfncompile-pypi", digest)
    if os.path.isdir(target):
        return target
    key = f".cache/pypi/{digest}.tar.gz"
    data = storage.get_bytes(key)
    if data is not None:
        _unpack(data, target)
        return target
    _pip_install(packages, target, step)
    storage.put_bytes(key, _pack(target))
    return target


def _pip_install(packages: dict, target: str, step: str) -> None:
    import shutil
    import subprocess

    tmp = f"{target}.tmp{os.getpid()}"
    os.makedirs(os.path.dirname(target), exist_ok=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-input", "--disable-pip-version-check",
               "--no-warn-script-location", "--target", tmp, *[requirement(n, v) for n, v in sorted(packages.items())]]
    print(f"sfncompile: building the @pypi environment of step '{step}': {' '.join(command[8:])}", file=sys.stderr)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"step '{step}': pip could not install @pypi packages "
                           f"{', '.join(requirement(n, v) for n, v in sorted(packages.items()))}:\n{result.stdout[-4000:]}")
    try:
        os.rename(tmp, target)
    except OSError:  # another task built it at the same time
        shutil.rmtree(tmp, ignore_errors=True)


def _pack(directory: str) -> bytes:
    import io
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as tar:
        tar.add(directory, arcname=".")
    return out.getvalue()


def _unpack(data: bytes, target: str) -> None:
    import io
    import shutil
    import tarfile

    tmp = f"{target}.tmp{os.getpid()}"
    os.makedirs(tmp, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(tmp, **kwargs)
    try:
        os.rename(tmp, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def find_conda() -> str | None:
    import shutil

    for name in ("micromamba", "mamba", "conda"):
        found = shutil.which(name)
        if found:
            return found
    return None


def ensure_conda(storage, args: dict, step: str) -> str:
    import subprocess

    exe = find_conda()
    if exe is None:
        raise RuntimeError(f"step '{step}' uses @conda, but no conda, mamba or micromamba executable exists in "
                           "this image/environment; install micromamba in the image or use @pypi instead")
    digest = spec_hash("conda", args)
    base = storage.root if storage.is_local else os.environ.get("TMPDIR", "/tmp")
    prefix = os.path.join(base, ".cache", "conda", digest)
    if not os.path.isdir(prefix):
        specs = [requirement(n, v).replace("==", "=") for n, v in sorted({**(args.get("libraries") or {}),
                                                                            **(args.get("packages") or {})}.items())]
        python = args.get("python") or f"{sys.version_info[0]}.{sys.version_info[1]}"
        tmp = f"{prefix}.tmp{os.getpid()}"
        command = [exe, "create", "--yes", "--prefix", tmp, "-c", "conda-forge", f"python={python}", *specs]
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"step '{step}': {os.path.basename(exe)} could not create the @conda environment:\n"
                               f"{result.stdout[-4000:]}")
        os.rename(tmp, prefix)
    site = [os.path.join(prefix, "lib", d, "site-packages") for d in os.listdir(os.path.join(prefix, "lib"))
            if d.startswith("python")] if os.path.isdir(os.path.join(prefix, "lib")) else []
    for path in site:
        sys.path.insert(0, path)
    return prefix
