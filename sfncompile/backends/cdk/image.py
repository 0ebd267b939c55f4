"""The job image as a CDK container image asset: ``runtime/Dockerfile``, built and pushed by
``cdk deploy`` (synth itself needs no Docker).

``RUNTIME_IMAGE`` is the image setting that asks for it. The asset's build context is staged in
a folder of its own holding only what the Dockerfile reads (the Dockerfile and the runtime's
hash-pinned ``requirements.txt``): the asset's hash — its tag in the registry, so a rebuild
happens exactly when the image definition changes — then depends on those two files only, not
on bytecode caches or the runtime's sources (which each job downloads in its code package).
From a wheel, where ``runtime/Dockerfile`` is not installed, the staged Dockerfile is the
generated one without ``@pypi`` packages (the same base argument and the same pins).
"""

from __future__ import annotations

import hashlib
import os
import re
from importlib import resources
from pathlib import Path

# Not a valid image reference (a tag cannot hold '/'), so it cannot collide with a real image.
RUNTIME_IMAGE = "asset:runtime/Dockerfile"


def is_runtime_image(image: str | None) -> bool:
    return image == RUNTIME_IMAGE


def runtime_dockerfile() -> str:
    """The text of the shipped image definition (``runtime/Dockerfile`` in a checkout)."""
    import sfncompile_runtime

    checkout = Path(sfncompile_runtime.__file__).resolve().parent.parent / "Dockerfile"
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    from ...deploy.render import dockerfile

    return dockerfile("runtime")


def runtime_image_context() -> str:
    """A folder holding the image's build context (staged once per content, under the user's cache)."""
    text = runtime_dockerfile()
    requirements = resources.files("sfncompile_runtime").joinpath("requirements.txt").read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode() + b"\0" + requirements.encode()).hexdigest()[:32]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "sfncompile" / "image-context" / digest
    if not (folder / "Dockerfile").is_file():
        staging = folder.with_name(f"{digest}.tmp{os.getpid()}")
        (staging / "sfncompile_runtime").mkdir(parents=True, exist_ok=True)
        (staging / "sfncompile_runtime" / "requirements.txt").write_text(requirements, encoding="utf-8")
        (staging / "Dockerfile").write_text(text, encoding="utf-8")  # last: its presence means complete
        try:
            os.rename(staging, folder)
        except OSError:  # another synth staged it first: same content
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
    return str(folder)


_DIGEST = re.compile(r"[^@\s]+@sha256:[0-9a-f]{64}")


def check_base_image(base: str | None) -> str | None:
    """``base`` if it names an image by digest (None stays None): a tag can move under a built
    image, a digest cannot, and this setting exists to pin the base."""
    if base is None or _DIGEST.fullmatch(base):
        return base
    from ...diagnostics import UserError

    raise UserError(f"base_image {base!r} must name the image by digest (REPO@sha256:<64 hex digits>): a tag can "
                    "move; find the digest with `docker buildx imagetools inspect REPO:TAG`")


def runtime_image_asset(scope, construct_id: str = "JobImage", base_image: str | None = None):
    """The asset (one per stack); ``.image_uri`` goes into the job definitions. ``base_image``
    (by digest) is the Dockerfile's ``BASE`` build argument; it is part of the asset's hash."""
    from aws_cdk import aws_ecr_assets as ecr_assets

    build_args = {"BASE": check_base_image(base_image)} if base_image else None
    return ecr_assets.DockerImageAsset(scope, construct_id, directory=runtime_image_context(),
                                       platform=ecr_assets.Platform.LINUX_AMD64, build_args=build_args)
