"""Per-step software environments: ``@environment``, ``@pypi``, ``@conda``.

``@pypi(packages=..., python=...)`` (step level, or flow level through
``@pypi``/``@pypi_base``; the step's own wins): the task runs in a virtual
environment holding exactly those packages — plus boto3 when the datastore
is on S3, which the runtime itself needs, as Metaflow adds its own
dependencies. One venv per distinct spec (hash of the packages, the Python
``major.minor``, the platform, and whether boto3 was added), built once and
cached:

* local datastore: ``<root>/.cache/pypi/<hash>/``;
* S3 datastore: built under ``$TMPDIR/sfncompile-pypi-<uid>/<hash>`` (a
  directory private to the user: what is there gets executed) by the first
  task that needs it and uploaded as ``<root>/<Flow>/.cache/pypi/<hash>.tar.gz``
  (its ``lib/`` and a manifest of every file's sha256), then its checksum
  ``<hash>.tar.gz.sha256``; later tasks on other hosts check the tarball
  against the checksum, unpack it into an empty venv, check every file
  against the manifest and only then mark it ready (last) and move it into
  place. A damaged tarball is rebuilt.

The task then re-executes itself (same bootstrap, same argv) with the venv's
interpreter — before its attempt starts, so the attempt's logs and records
all come from the process that runs the step. ``SFNCOMPILE_PYPI_ENV`` marks
the process as already inside. ``python=`` picks ``python<major.minor>``
from the ``PATH`` when it is not the running interpreter; absent → a clear
error naming the step.

``@conda`` runs only where ``micromamba``/``mamba``/``conda`` exists (one
environment per spec, boto3 added on S3, the task re-executed with its
Python the same way);
otherwise a clear error naming the step. Nothing is silently ignored.
"""

from __future__ import annotations

import json
import os
import sys

from . import graphinfo

INSIDE_VAR = "SFNCOMPILE_PYPI_ENV"


def prepare_environment(task) -> None:
    """The in-process part: ``@environment`` variables."""
    env_args = graphinfo.decorator_args(task.node, "environment")
    if env_args:
        for key, value in (env_args.get("vars") or {}).items():
            os.environ.setdefault(key, str(value))


def conda_spec(task) -> dict | None:
    conda = graphinfo.effective_environment_spec(task.graph, task.node, "conda")
    if conda is None or not (conda.get("packages") or conda.get("libraries") or conda.get("python")):
        return None
    return conda


def pypi_spec(task) -> dict | None:
    pypi = graphinfo.effective_environment_spec(task.graph, task.node, "pypi")
    if pypi is None or not (pypi.get("packages") or pypi.get("python")):
        return None
    return pypi


def reexec_in_pypi_environment(task) -> None:
    """Returns when no environment is needed (or we are in it); otherwise replaces this process
    with the same task run by the environment's interpreter (@conda first, then @pypi)."""
    storage = task.store.storage
    with_boto3 = not storage.is_local
    conda = conda_spec(task)
    if conda is not None:
        digest = spec_hash("conda", conda, conda.get("python"), with_boto3)
        if os.environ.get(INSIDE_VAR) == digest:
            return
        prefix = ensure_conda(storage, conda, task.step, digest, with_boto3)
        _reexec(task, os.path.join(prefix, "bin", "python"), digest)
    args = pypi_spec(task)
    if args is None:
        return
    base = base_interpreter(args, task.step)
    digest = spec_hash("pypi", args, base_version(base), with_boto3)
    if os.environ.get(INSIDE_VAR) == digest:
        return
    venv = ensure_pypi_venv(storage, args, task.step, digest, base, with_boto3, task.flow_name)
    _reexec(task, os.path.join(venv, "bin", "python"), digest)


def _reexec(task, python: str, digest: str) -> None:
    from .bootstrap import BOOTSTRAP_SOURCE

    from .processes import watched_environment

    env = watched_environment(dict(os.environ))  # the re-executed task watches the executor again
    env[INSIDE_VAR] = digest
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(python, [python, "-c", BOOTSTRAP_SOURCE, task.mode, task.step], env)
    except OSError as exc:  # checked by _ready just before: removed meanwhile, or not executable
        raise RuntimeError(f"step '{task.step}': the @pypi environment's interpreter {python} cannot be run "
                           f"({exc.strerror}); delete {os.path.dirname(os.path.dirname(python))} and run again "
                           "to rebuild it") from None


def requirement(name: str, version: str) -> str:
    version = (version or "").strip()
    if not version:
        return name
    if version[0] in "<>=!~":
        return f"{name}{version}"
    return f"{name}=={version}"


def spec_hash(kind: str, args: dict, python: str | None = None, with_boto3: bool = False) -> str:
    import hashlib
    import platform

    key = {"kind": kind, "packages": dict(sorted((args.get("packages") or {}).items())),
           "libraries": dict(sorted((args.get("libraries") or {}).items())),
           "python": python or f"{sys.version_info[0]}.{sys.version_info[1]}",
           "platform": f"{sys.platform}-{platform.machine()}", "boto3": with_boto3}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


def base_interpreter(args: dict, step: str, kind: str = "pypi") -> str:
    """The interpreter the venv is made from: this one, or ``python<X.Y>`` for ``python=``."""
    wanted = args.get("python")
    have = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if not wanted:
        return sys.executable
    parts = str(wanted).split(".")
    if ".".join(parts[:2]) == have or str(wanted) == str(sys.version_info[0]):
        return sys.executable
    import shutil

    found = shutil.which(f"python{'.'.join(parts[:2])}")
    if found is None:
        raise RuntimeError(f"step '{step}': @{kind}(python='{wanted}') needs Python {wanted}, but this image "
                           f"has Python {have} and no python{'.'.join(parts[:2])} on the PATH; use an image "
                           f"with Python {wanted} or drop python=")
    return found


def base_version(python: str) -> str:
    if python == sys.executable:
        return f"{sys.version_info[0]}.{sys.version_info[1]}"
    import subprocess

    out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip()


def pypi_cache_key(flow: str, digest: str) -> str:
    """Where an S3 datastore keeps a packed environment: inside the flow's own prefix, the
    only place its job role may read and write."""
    return f"{flow}/.cache/pypi/{digest}.tar.gz"


def ensure_pypi_venv(storage, args: dict, step: str, digest: str, base: str, with_boto3: bool,
                     flow: str = "") -> str:
    if storage.is_local:
        target = os.path.join(storage.root, ".cache", "pypi", digest)
        if not _ready(target):
            _build_venv(args, target, step, base, with_boto3)
        return target
    from .cachedirs import user_temp_dir

    target = os.path.join(user_temp_dir("sfncompile-pypi"), digest)
    if _ready(target):
        return target
    key = pypi_cache_key(flow, digest)
    data = _cached_tarball(storage, key)
    if data is not None:
        print(f"sfncompile: unpacking the cached @pypi environment of step '{step}'", file=sys.stderr)
        try:
            _unpack_venv(data, target, base)
            return target
        except DamagedEnvironment as exc:
            print(f"sfncompile: warning: {exc}; building it again", file=sys.stderr)
    _build_venv(args, target, step, base, with_boto3)
    packed = _pack_venv(target)
    storage.put_bytes(key, packed)
    # The checksum goes last: a reader that finds it finds the whole tarball it describes.
    storage.put_bytes(key + ".sha256", _sha256(packed).encode())
    return target


class DamagedEnvironment(Exception):
    """A cached environment tarball that does not match its checksum or its file manifest."""


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _cached_tarball(storage, key: str) -> bytes | None:
    """The packed environment, if stored whole and intact (its ``.sha256`` written after it matches)."""
    expected = storage.get_bytes(key + ".sha256")
    if expected is None:
        return None
    data = storage.get_bytes(key)
    if data is None or _sha256(data) != expected.decode(errors="replace").strip():
        print(f"sfncompile: warning: the cached @pypi environment {storage.url(key)} does not match its "
              "checksum; building it again", file=sys.stderr)
        return None
    return data


def _ready(venv: str) -> bool:
    """Built to the end (the marker is written last) and still able to run: a venv whose
    interpreter link was removed or broken (its base Python upgraded away) is built again."""
    return os.path.isfile(os.path.join(venv, READY)) and os.access(os.path.join(venv, "bin", "python"), os.X_OK)


def _set_aside(target: str) -> None:
    """Remove an unusable environment at ``target`` (renamed first, so that no task picks up a
    half-deleted one)."""
    import shutil

    if not os.path.lexists(target):
        return
    aside = f"{target}.damaged-{os.getpid()}"
    try:
        os.rename(target, aside)
    except OSError:
        return  # another task is replacing it at the same moment
    print(f"sfncompile: warning: the @pypi environment {target} was incomplete or damaged; building it again",
          file=sys.stderr)
    shutil.rmtree(aside, ignore_errors=True)


def _make_venv(base: str, path: str) -> None:
    import subprocess

    subprocess.run([base, "-m", "venv", "--without-pip", path], check=True, capture_output=True)


def _build_venv(args: dict, target: str, step: str, base: str, with_boto3: bool) -> None:
    import shutil
    import subprocess

    packages = args.get("packages") or {}
    wanted = [requirement(n, v) for n, v in sorted(packages.items())]
    if with_boto3 and not any(n.lower() == "boto3" for n in packages):
        wanted.append("boto3")
    tmp = f"{target}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    print(f"sfncompile: building the @pypi environment of step '{step}': {' '.join(wanted) or '(no packages)'}",
          file=sys.stderr)
    try:
        _make_venv(base, tmp)
        if wanted:
            # the base environment's pip installs into the venv (no pip inside it)
            command = [sys.executable, "-m", "pip", "--python", os.path.join(tmp, "bin", "python"), "install",
                       "--quiet", "--no-input", "--disable-pip-version-check", "--no-warn-script-location", *wanted]
            result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"step '{step}': pip could not install the @pypi packages {', '.join(wanted)}:\n"
                                   f"{result.stdout[-4000:]}")
        open(os.path.join(tmp, READY), "w").close()
        if os.path.lexists(target) and not _ready(target):
            _set_aside(target)  # a damaged one: ours replaces it
        # venvs are not relocatable: rebuild at the final path when someone else won the race
        if os.path.exists(target):
            shutil.rmtree(tmp, ignore_errors=True)
            return
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not _ready(target):
        raise RuntimeError(f"step '{step}': the @pypi environment at {target} is incomplete")


FILES_MANIFEST = ".sfncompile-files.json"
READY = ".sfncompile-ready"


def _file_hashes(directory: str, under: str) -> dict[str, str]:
    import hashlib

    found = {}
    for dirpath, _, names in os.walk(os.path.join(directory, under)):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                found[os.path.relpath(path, directory)] = "link:" + os.readlink(path)
                continue
            with open(path, "rb") as src:
                found[os.path.relpath(path, directory)] = hashlib.sha256(src.read()).hexdigest()
    return found


def _pack_venv(directory: str) -> bytes:
    """lib/ (bin/ and pyvenv.cfg are made on each host) plus a manifest of its files' sha256."""
    import io
    import tarfile

    manifest = json.dumps(_file_hashes(directory, "lib"), sort_keys=True).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as tar:
        path = os.path.join(directory, "lib")
        if os.path.exists(path):
            tar.add(path, arcname="lib")
        info = tarfile.TarInfo(FILES_MANIFEST)
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    return out.getvalue()


def _unpack_venv(data: bytes, target: str, base: str) -> None:
    """Unpack into a scratch venv, check every file against the manifest, mark it ready last,
    then rename it into place: nothing unverified is ever at ``target``."""
    import io
    import shutil
    import tarfile

    tmp = f"{target}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    _make_venv(base, tmp)  # bin/ with this host's interpreter links
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(tmp, **kwargs)
        try:
            with open(os.path.join(tmp, FILES_MANIFEST)) as src:
                expected = json.load(src)
        except (OSError, ValueError):
            raise DamagedEnvironment("the cached @pypi environment has no readable file manifest") from None
        if _file_hashes(tmp, "lib") != expected:
            raise DamagedEnvironment("the files of the cached @pypi environment do not match its manifest")
        open(os.path.join(tmp, READY), "w").close()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
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


def ensure_conda(storage, args: dict, step: str, digest: str, with_boto3: bool) -> str:
    """The conda environment's prefix, created once per spec with micromamba/mamba/conda."""
    import shutil
    import subprocess

    exe = find_conda()
    if exe is None:
        raise RuntimeError(f"step '{step}' uses @conda, but no conda, mamba or micromamba executable exists in "
                           "this image/environment; install micromamba in the image or use @pypi instead")
    if storage.is_local:
        prefix = os.path.join(storage.root, ".cache", "conda", digest)
    else:
        from .cachedirs import user_temp_dir

        prefix = os.path.join(user_temp_dir("sfncompile-conda"), digest)
    if not os.path.isdir(prefix):
        wanted = {**(args.get("libraries") or {}), **(args.get("packages") or {})}
        specs = [requirement(n, v).replace("==", "=") for n, v in sorted(wanted.items())]
        if with_boto3 and "boto3" not in {n.lower() for n in wanted}:
            specs.append("boto3")
        python = args.get("python") or f"{sys.version_info[0]}.{sys.version_info[1]}"
        tmp = f"{prefix}.tmp{os.getpid()}"
        print(f"sfncompile: creating the @conda environment of step '{step}' with {os.path.basename(exe)}",
              file=sys.stderr)
        command = [exe, "create", "--yes", "--prefix", tmp, "-c", "conda-forge", f"python={python}", *specs]
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(f"step '{step}': {os.path.basename(exe)} could not create the @conda environment:\n"
                               f"{result.stdout[-4000:]}")
        try:
            os.rename(tmp, prefix)
        except OSError:  # another task made it first
            shutil.rmtree(tmp, ignore_errors=True)
    return prefix
