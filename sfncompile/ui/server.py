"""``sfncompile ui``: a read-only web app over a datastore, on the standard library's
``http.server`` (no web framework: the app is a handful of GET routes, and a
dependency-free server installs and starts anywhere the CLI does).

Every page is addressed by pathspec: ``/<Flow>``, ``/<Flow>/<run>``,
``/<Flow>/<run>/<step>``, ``/<Flow>/<run>/<step>/<task>``; a task's full logs
and cards hang below it (``/_log/stdout``, ``/_card/<hash>``). A path segment is
a datastore name or nothing: anything else (``..``, a slash, a control
character) is a 404 before any storage is touched. Pages are server-rendered
and escaped; ``?partial=1`` returns only ``<main>``, which ``ui.js`` polls while
a run or task is still going. Cards are served under a sandboxing CSP.
"""

from __future__ import annotations

import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, unquote, urlsplit

from . import pages
from .model import Model

SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:+\-]{0,254}$")
STATIC = {"ui.css": "text/css; charset=utf-8", "ui.js": "text/javascript; charset=utf-8"}
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "frame-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'")
CARD_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
RUNS_LISTED = 100


class NotFound(Exception):
    pass


def _segments(path: str) -> list[str]:
    parts = [unquote(p) for p in path.split("/") if p]
    for part in parts:
        if not SEGMENT.match(part) or ".." in part:
            raise NotFound("no such page")
    return parts


class App:
    def __init__(self, root: str):
        self.model = Model(root)
        self.root = root

    # -- routes -------------------------------------------------------------------------
    def handle(self, path: str, query: dict) -> tuple[int, str, bytes, dict]:
        if path.startswith("/_static/"):
            name = path[len("/_static/"):]
            if name not in STATIC:
                raise NotFound("no such file")
            data = resources.files("sfncompile.ui").joinpath("static", name).read_bytes()
            return 200, STATIC[name], data, {"Cache-Control": "max-age=300"}
        parts = _segments(path)
        partial = query.get("partial") == "1"
        if not parts:
            return self._html(self.flows_page(), partial)
        flow = parts[0]
        if len(parts) == 1:
            return self._html(self.runs_page(flow, query), partial)
        run_id = parts[1]
        if len(parts) == 2:
            run = self._run(flow, run_id)
            return self._html(pages.run_page(run, self.model.foreach_widths(run)), partial)
        step = parts[2]
        if len(parts) == 3:
            run = self._run(flow, run_id)
            if step not in run.steps and step not in (run.graph or {}).get("steps", {}):
                raise NotFound(f"run {flow}/{run_id} has no step {step!r}")
            return self._html(pages.step_page(run, step), partial)
        task_id = parts[3]
        if len(parts) == 4:
            return self._html(pages.task_page(self.task_context(flow, run_id, step, task_id, query)), partial)
        if len(parts) == 6 and parts[4] == "_log" and parts[5] in ("stdout", "stderr"):
            ctx = self._attempt(flow, run_id, step, task_id, query)
            prefix = self.model.log_prefix(flow, run_id, step, task_id, ctx["attempt"], ctx["record"])
            data = self.model.log_full(prefix, parts[5])
            return 200, "text/plain; charset=utf-8", data, {}
        if len(parts) == 6 and parts[4] == "_card":
            ctx = self._attempt(flow, run_id, step, task_id, query)
            for card in self.model.cards(flow, run_id, step, task_id, ctx["attempt"], ctx["record"]):
                if card.hash == parts[5]:
                    html = self.model.card_html(card.key)
                    if html is not None:
                        return 200, "text/html; charset=utf-8", html, {"Content-Security-Policy": CARD_CSP}
            raise NotFound("no such card")
        raise NotFound("no such page")

    def _html(self, page: str, partial: bool) -> tuple[int, str, bytes, dict]:
        if partial:
            start = page.find("<main id='main'")
            page = page[start: page.rfind("</main>") + len("</main>")] if start >= 0 else page
        # "replace": text that is no valid Unicode (an artifact's repr, a name) must not fail the page
        return 200, "text/html; charset=utf-8", page.encode("utf-8", "replace"), {"Content-Security-Policy": PAGE_CSP}

    def _run(self, flow: str, run_id: str):
        run = self.model.run_summary(flow, run_id)
        if run is None:
            raise NotFound(f"no run {flow}/{run_id} in {self.root}")
        return run

    # -- pages --------------------------------------------------------------------------
    def flows_page(self) -> str:
        rows = []
        for flow in self.model.flows():
            ids = self.model.run_ids(flow)
            latest = self.model.run_overview(flow, ids[0]) if ids else None
            rows.append({"flow": flow, "runs": len(ids), "status": latest.status if latest else "",
                         "started": latest.started_at if latest else None})
        return pages.flows_page(rows, self.root)

    def runs_page(self, flow: str, query: dict) -> str:
        if flow not in self.model.flows():
            raise NotFound(f"no flow {flow!r} in {self.root}")
        tag, status = query.get("tag", ""), query.get("status", "")
        if status not in pages.STATUSES:
            status = ""
        runs = []
        for run_id in self.model.run_ids(flow):
            record = self.model.run_record(flow, run_id) or {}
            if tag and tag not in (record.get("tags") or []) + (record.get("system_tags") or []):
                continue
            summary = self.model.run_overview(flow, run_id)
            if summary is None or (status and summary.status != status):
                continue
            runs.append(summary)
            if len(runs) >= RUNS_LISTED:
                break
        from .deployed import deployment_section

        return pages.runs_page(flow, runs, tag, status, deployment_section(flow, runs[0].graph if runs else None))

    def _attempt(self, flow, run_id, step, task_id, query) -> dict:
        state = self.model.task_state(flow, run_id, step, task_id)
        if not state.attempts:
            raise NotFound(f"no task {flow}/{run_id}/{step}/{task_id}")
        attempt = state.attempt
        wanted = query.get("attempt")
        if wanted is not None:
            if not wanted.isdigit() or int(wanted) not in state.attempts:
                raise NotFound(f"task {flow}/{run_id}/{step}/{task_id} has no attempt {wanted!r}")
            attempt = int(wanted)
        started, record = self.model.attempt_files(flow, run_id, step, task_id, attempt)
        return {"state": state, "attempt": attempt, "started": started, "record": record}

    def task_context(self, flow, run_id, step, task_id, query) -> dict:
        ctx = self._attempt(flow, run_id, step, task_id, query)
        record, attempt = ctx["record"], ctx["attempt"]
        state = ctx["state"].state if attempt == ctx["state"].attempt else (
            "running" if record is None else ("failed" if record.get("status") != "ok" else "ok"))
        prefix = self.model.log_prefix(flow, run_id, step, task_id, attempt, record)
        logs = {name: self.model.log_tail(prefix, name) for name in ("stdout", "stderr")}
        artifacts = []
        if record and record.get("status") == "ok":
            for name, ref in sorted((record.get("artifacts") or {}).items()):
                if name.startswith("_"):
                    continue
                preview, reason = self.model.artifact_preview(flow, run_id, step, task_id, name) \
                    if attempt == ctx["state"].attempt else ("", "preview shown for the latest attempt only")
                artifacts.append((name, ref, preview, reason))
        cards = self.model.cards(flow, run_id, step, task_id, attempt, record)
        return {"flow": flow, "run_id": run_id, "step": step, "task_id": task_id, "attempt": attempt,
                "attempts": ctx["state"].attempts, "record": record, "started": ctx["started"], "state": state,
                "logs": logs, "artifacts": artifacts, "cards": cards}


class Handler(BaseHTTPRequestHandler):
    app: App = None  # set by serve()
    server_version = "sfncompile-ui"
    sys_version = ""

    def do_GET(self):
        self._respond(head=False)

    def do_HEAD(self):
        self._respond(head=True)

    def _respond(self, head: bool):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            status, ctype, body, headers = self.app.handle(url.path, query)
        except NotFound as exc:
            status, ctype, headers = 404, "text/html; charset=utf-8", {"Content-Security-Policy": PAGE_CSP}
            body = pages.not_found(str(exc)).encode("utf-8", "replace")
        except Exception as exc:  # a bug or an unreadable record: a page, not a dropped connection
            status, ctype, headers = 500, "text/html; charset=utf-8", {"Content-Security-Policy": PAGE_CSP}
            body = pages.layout("Error", [("flows", "/")], pages.main_block(
                f"<h1>Error</h1><pre>{pages.esc(type(exc).__name__)}: {pages.esc(exc)}</pre>", False)).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Cache-Control", "no-store")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_POST(self):  # read-only: nothing accepts writes
        self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)

    do_PUT = do_DELETE = do_PATCH = do_POST

    def log_message(self, format, *args):  # quiet unless asked
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


def make_server(root: str, host: str = "127.0.0.1", port: int = 8321, verbose: bool = False) -> ThreadingHTTPServer:
    import os

    from sfncompile_runtime import envnames

    os.environ[envnames.DATASTORE] = root  # the client API (artifact previews) reads the same root
    handler = type("BoundHandler", (Handler,), {"app": App(root)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.verbose = verbose
    return server


def serve_in_thread(root: str, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    server = make_server(root, host, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://{host}:{server.server_address[1]}"
