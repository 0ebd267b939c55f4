"""The unpacked code package a task runs from: where it is and what it says about the flow."""

from __future__ import annotations

import json
import os

from . import envnames
from .failures import SetupError


def package_dir() -> str:
    """The directory the bootstrap extracted (``SFNCOMPILE_PACKAGE_DIR``), else the one holding this runtime."""
    found = os.environ.get(envnames.PACKAGE_DIR)
    if found:
        return found
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_package(directory: str) -> tuple[dict, dict]:
    """(graph.json, sfncompile_package.json) of the unpacked code package."""
    try:
        with open(os.path.join(directory, "graph.json")) as src:
            graph = json.load(src)
        with open(os.path.join(directory, "sfncompile_package.json")) as src:
            manifest = json.load(src)
    except OSError as exc:
        raise SetupError(f"the code package at {directory} is incomplete: {exc}")
    return graph, manifest
