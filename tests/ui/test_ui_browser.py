"""sfncompile ui in a real browser: the pages people look at, after real runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from urllib.error import HTTPError

from playwright.sync_api import expect

from tests.ui.conftest import FLOWS, screenshot

FILL = {"ok": "rgb(211, 244, 220)", "failed": "rgb(255, 217, 217)", "pending": "rgb(244, 246, 248)",
        "running": "rgb(219, 233, 255)"}


def _fill(page, step: str) -> str:
    return page.eval_on_selector(f"g.mf-node[data-step='{step}'] rect", "r => getComputedStyle(r).fill")


def test_flow_list(page, ui_url):
    page.goto(ui_url + "/")
    assert page.locator("#flows a.flow-link", has_text="UIFlow").is_visible()
    assert page.locator("#flows .badge").first.inner_text() == "failed"
    screenshot(page, "flows")
    page.click("text=UIFlow")
    assert page.locator("#runs tr.run-row").count() == 1
    screenshot(page, "runs")


def test_run_dag_colours_after_a_failing_foreach_task(page, ui_url, ui_root):
    _, run_id = ui_root
    page.goto(f"{ui_url}/UIFlow/{run_id}")
    assert page.locator("#run-status").inner_text() == "failed"
    assert page.locator("g.mf-node").count() == 4
    assert _fill(page, "start") == FILL["ok"]
    assert _fill(page, "work") == FILL["failed"]
    assert _fill(page, "join") == FILL["pending"] and _fill(page, "end") == FILL["pending"]
    caption = page.locator("g.mf-node[data-step='start'] .mf-node-caption").text_content()
    assert "foreach ×3" in caption
    assert "1 failed" in page.locator("g.mf-node[data-step='work'] .mf-node-caption").text_content()
    assert page.locator("#steps a.failed-task").inner_text() == "2.1"  # work is step 2, item 1
    screenshot(page, "run_dag_failed_foreach")


def test_task_log_and_error_are_shown_escaped(page, ui_url, ui_root):
    _, run_id = ui_root
    page.goto(f"{ui_url}/UIFlow/{run_id}/work/2.1")
    assert page.locator("#task-state").inner_text() == "failed"
    assert "working on b <img src=x onerror='window.__pwned=2'>" in page.locator("#log-stdout").inner_text()
    exception = page.locator(".exception")
    assert "ValueError" in exception.inner_text()
    assert "shard b is broken <script>window.__pwned=3</script>" in exception.inner_text()
    assert "Traceback" in page.locator("pre.traceback").inner_text()
    assert page.evaluate("window.__pwned") is None and page.locator(".exception script").count() == 0
    assert not page.js_errors
    screenshot(page, "task_failed_log_and_error")
    page.goto(f"{ui_url}/UIFlow/{run_id}/start/1")
    assert "<script>window.__pwned = 1</script>" in page.locator("#log-stdout").inner_text()
    assert page.evaluate("window.__pwned") is None


def test_artifact_preview(page, ui_url, ui_root):
    _, run_id = ui_root
    page.goto(f"{ui_url}/UIFlow/{run_id}/start/1")
    row = page.locator("#artifacts tr[data-artifact='config']")
    assert "'note': '<b>not bold</b>'" in row.locator("pre.preview").inner_text()
    assert row.locator("b").count() == 0
    assert "['a', 'b', 'c']" in page.locator("#artifacts tr[data-artifact='shards']").inner_text()


def test_card_with_a_table_and_an_image(page, ui_url, ui_root):
    _, run_id = ui_root
    page.goto(f"{ui_url}/UIFlow/{run_id}/start/1")
    frame = page.frame_locator("figure.card iframe").first
    assert frame.locator("h1", has_text="Shard report").is_visible()
    assert frame.locator("table.mf-table tbody tr").count() == 3
    assert frame.locator("table.mf-table").inner_text().split() == ["shard", "rows", "a", "1", "b", "2", "c", "3"]
    image = frame.locator("figure.mf-image img")
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 60
    page.locator("figure.card").first.scroll_into_view_if_needed()
    screenshot(page, "task_with_card")


def test_traversal_and_missing_run(page, ui_url, ui_root):
    for path in ("/..%2F..%2F..%2Fetc%2Fpasswd", "/UIFlow/..%2F..%2Fetc/passwd", "/_static/..%2Fmodel.py",
                 "/UIFlow/%2E%2E/start", "/UIFlow/x/start/0/_log/..%2F..%2Frun.json"):
        try:
            urllib.request.urlopen(ui_url + path)
            raise AssertionError(f"{path} was served")
        except HTTPError as exc:
            body = exc.read().decode()
            assert exc.code == 404 and "root:" not in body and "import" not in body, path
    try:
        urllib.request.urlopen(urllib.request.Request(ui_url + "/UIFlow", data=b"x", method="POST"))
        raise AssertionError("POST was accepted")
    except HTTPError as exc:
        assert exc.code == 405  # read-only
    partial = urllib.request.urlopen(ui_url + "/UIFlow?partial=1").read().decode()
    assert partial.startswith("<main id='main'") and partial.endswith("</main>")
    response = page.goto(f"{ui_url}/UIFlow/20990101T000000-nothere")
    assert response.status == 404
    assert "no run UIFlow/20990101T000000-nothere" in page.locator("main").inner_text()
    screenshot(page, "missing_run")


def test_run_page_updates_while_the_run_progresses(page, tmp_path):
    from sfncompile.ui.server import serve_in_thread

    gate = tmp_path / "gate"
    root = tmp_path / "store"
    root.mkdir()
    env = dict(os.environ, SFNCOMPILE_DATASTORE=str(root), GATE=str(gate))
    proc = subprocess.Popen([sys.executable, "-m", "sfncompile.cli.main", "run", str(FLOWS / "gated_flow.py"),
                             "--datastore", str(root)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    server, url = serve_in_thread(str(root))
    try:
        deadline = time.time() + 60
        runs = root / "GatedFlow" / "runs"
        while not (runs.exists() and any((r / "wait").exists() for r in runs.iterdir())):
            assert time.time() < deadline and proc.poll() is None, "the run never reached its 'wait' step"
            time.sleep(0.2)
        run_id = next(runs.iterdir()).name
        page.goto(f"{url}/GatedFlow/{run_id}")
        assert page.locator("#run-status").inner_text() == "running"
        assert _fill(page, "wait") == FILL["running"]
        screenshot(page, "live_run_running")
        page.evaluate("document.getElementById('main').dataset.marker = 'same page'")
        gate.write_text("open")
        expect(page.locator("#run-status")).to_have_text("succeeded", timeout=60000)
        assert _fill(page, "wait") == FILL["ok"] and _fill(page, "end") == FILL["ok"]
        assert page.evaluate("document.getElementById('main').dataset.live") == "0"  # polling stopped
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded
        screenshot(page, "live_run_finished")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        server.shutdown()
        server.server_close()
