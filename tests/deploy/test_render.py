"""The templates users read are package data (sfncompile.templates), found from anywhere."""

from __future__ import annotations

from importlib import resources

from sfncompile.deploy import render
from tests.conftest import ROOT


def test_the_package_templates_are_the_top_level_folder():
    shipped = {p.name for p in resources.files("sfncompile.templates").iterdir() if p.name.endswith(".j2")}
    assert shipped == {p.name for p in (ROOT / "templates").glob("*.j2")}


def test_dockerfile_renders_pins(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # not the checkout: nothing is read relative to the working directory
    text = render.dockerfile("SweepFlow", "3.12", {"pandas": "2.2.0", "numpy": ">=1.26"})
    # the base is a build argument (pin it by digest with --build-arg BASE=...@sha256:...)
    assert "ARG BASE=public.ecr.aws/docker/library/python:3.12-slim" in text and "FROM ${BASE}" in text
    assert "pandas==2.2.0" in text and "numpy>=1.26" in text
