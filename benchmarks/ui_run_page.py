"""Time to first paint of ``sfncompile ui``'s run page for a run of N tasks, and the server's memory.

    .venv/bin/python benchmarks/ui_run_page.py [--tasks 1000] [--repeat 5]

The run is made by running a small real foreach flow (3 tasks) and copying its
body task's attempt directory to N task ids (records rewritten with their
ids, the foreach width set to N): the same files a real N-wide run leaves.
The server runs as its own process (``sfncompile ui``); Debian's chromium,
driven by Playwright, opens the run page: the first load is cold (nothing
cached), the next ones warm. Reported: first-contentful-paint (median of the
warm loads, and the cold one), HTML size, the server's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

FLOW = textwrap.dedent('''
    from metaflow import FlowSpec, step

    class WideFlow(FlowSpec):
        @step
        def start(self):
            self.items = list(range(3))
            self.next(self.body, foreach="items")

        @step
        def body(self):
            print("task", self.input)
            self.value = self.input * 2
            self.next(self.join)

        @step
        def join(self, inputs):
            self.total = sum(i.value for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
''')


def make_run(root: Path, tasks: int) -> str:
    flow = root / "wide_flow.py"
    flow.write_text(FLOW)
    store = root / "store"
    subprocess.run([sys.executable, "-m", "sfncompile.cli.main", "run", str(flow), "--datastore", str(store)],
                   check=True, capture_output=True, cwd=root)
    runs = store / "WideFlow" / "runs"
    run_dir = next(runs.iterdir())
    body = run_dir / "body"
    template = body / "0"
    for i in range(3, tasks):
        target = body / str(i)
        shutil.copytree(template, target)
        for name in ("record.json", "started.json"):
            path = target / "0" / name
            data = json.loads(path.read_text())
            data["index_path"] = str(i)
            if "task_id" in data:
                data["task_id"] = str(i)
            path.write_text(json.dumps(data))
    start_record = run_dir / "start" / "0" / "0" / "record.json"
    data = json.loads(start_record.read_text())
    data["foreach"]["width"] = tasks
    start_record.write_text(json.dumps(data))
    return run_dir.name, store


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        run_id, store = make_run(Path(tmp), args.tasks)
        server = subprocess.Popen([sys.executable, "-m", "sfncompile.cli.main", "ui", "--datastore", str(store),
                                   "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            base = server.stdout.readline().strip().rstrip("/")
            url = f"{base}/WideFlow/{run_id}"
            paints, sizes, responses = [], [], []
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                    "--disable-component-update", "--disable-sync", "--disable-quic"])
                for _ in range(args.repeat + 1):
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(url, wait_until="load")
                    fcp = None
                    while fcp is None:  # the paint entry can land just after "load"
                        fcp = page.evaluate("() => { const e = performance.getEntriesByName('first-contentful-paint');"
                                            " return e.length ? e[0].startTime : null; }")
                        if fcp is None:
                            page.wait_for_timeout(50)
                    nav = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                                        " return [n.transferSize, n.responseEnd - n.requestStart]; }")
                    sizes.append(nav[0])
                    responses.append(nav[1])
                    assert page.locator("g.mf-node[data-step='body'] .mf-node-caption").text_content().startswith(
                        f"{args.tasks} ok")
                    paints.append(fcp)
                    context.close()
                browser.close()
            with open(f"/proc/{server.pid}/status") as status:
                memory = {line.split(":")[0]: line.split(":")[1].strip() for line in status
                          if line.startswith(("VmHWM", "VmRSS"))}
        finally:
            server.terminate()
            server.wait()
    print(f"run page of {args.tasks + 3} tasks ({args.tasks} in one foreach), {os.cpu_count()} cores")
    print(f"first-contentful-paint: cold {paints[0]:.0f} ms, warm median {statistics.median(paints[1:]):.0f} ms "
          f"(warm runs: {', '.join(f'{p:.0f}' for p in paints[1:])})")
    print(f"server response (request to last byte): cold {responses[0]:.0f} ms, warm median "
          f"{statistics.median(responses[1:]):.0f} ms")
    print(f"page transfer size: {sizes[-1] / 1024:.0f} KiB")
    print(f"server memory: peak RSS {memory.get('VmHWM')}, now {memory.get('VmRSS')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
