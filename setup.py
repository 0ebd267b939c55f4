"""Package layout that pyproject.toml cannot express: the top-level ``templates/``
folder is the source of truth for the files users read, and the build ships it
as the package ``sfncompile.templates`` (so wheels carry it and editable
installs see the same files); the runtime lives under ``runtime/``.
Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["sfncompile", "sfncompile.*"]),
              *find_packages("runtime", include=["sfncompile_runtime", "sfncompile_runtime.*"]),
              "sfncompile.templates"],
    package_dir={"sfncompile_runtime": "runtime/sfncompile_runtime", "sfncompile.templates": "templates"},
)
