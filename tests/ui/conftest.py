"""Browser tests of ``sfncompile ui``: Debian's chromium driven by Playwright for Python
(pointed at /usr/bin/chromium; no browser download). Screenshots are kept under
``test-artifacts/ui/`` (or ``$SFNCOMPILE_TEST_ARTIFACTS/ui``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SFNCOMPILE_CHROMIUM", "/usr/bin/chromium")
# The flags that work on this machine's closed network (docs of the dev machine).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("SFNCOMPILE_TEST_ARTIFACTS", REPO / "test-artifacts")) / "ui"
FLOWS = Path(__file__).resolve().parent / "flows"


def _need(what: str):
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: CI installs it (README's test line)")
    pytest.skip(f"{what} is not installed (apt-get install chromium; pip install -e '.[test]')")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("playwright")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _need(CHROMIUM)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    # Generous: a guard against hangs, not a speed test (a shared 2-core machine can be slow).
    page.set_default_timeout(90000)
    page.set_default_navigation_timeout(120000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def run_flow(flow_file: Path, flow: str, root: Path, *extra: str, check: bool = False) -> tuple[str, subprocess.CompletedProcess]:
    done = subprocess.run([sys.executable, "-m", "sfncompile.cli.main", "run", str(flow_file), "--datastore",
                           str(root), *extra], capture_output=True, text=True, timeout=300, cwd=root,
                          env=dict(os.environ, SFNCOMPILE_DATASTORE=str(root)))
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    runs = sorted((root / flow / "runs").iterdir(), key=lambda p: p.stat().st_mtime)
    return runs[-1].name, done


@pytest.fixture(scope="module")
def ui_root(tmp_path_factory):
    """One datastore with a run that has a failing foreach task, logs with markup, artifacts and a card."""
    root = tmp_path_factory.mktemp("ui-store")
    run_id, done = run_flow(FLOWS / "ui_flow.py", "UIFlow", root)
    assert done.returncode != 0, "the flow's foreach has one failing task"
    return root, run_id


@pytest.fixture(scope="module")
def ui_url(ui_root):
    from sfncompile.ui.server import serve_in_thread

    server, url = serve_in_thread(str(ui_root[0]))
    yield url
    server.shutdown()
    server.server_close()
