"""An HTTP proxy in front of the moto server that fails requests on purpose.

For one distinct (method, path) of S3 object requests in ``every``, the first
request gets ``503 SlowDown`` (S3's throttling reply) and, for a GET, the
second gets ``500 InternalError``; everything else is forwarded unchanged. It proves that the
runtime's botocore client retries transient errors (standard retry mode)
rather than failing the task.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ERRORS = {
    503: b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
    500: b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>',
}


class FaultyProxy:
    def __init__(self, upstream: str, bucket: str, every: int = 3):
        self.upstream = urlsplit(upstream)
        self.bucket = bucket
        self.every = every  # fault one distinct request in `every` (keeps backoff time small)
        self.seen: dict[tuple[str, str], list] = {}
        self.injected: list[tuple[int, str, str]] = []
        self.forwarded = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self):
                body = self._body()
                path = self.path.split("?")[0]
                fault = proxy.decide(self.command, path)
                if fault:
                    payload = ERRORS[fault]
                    self.send_response(fault)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding",)}
                headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()
                with proxy.lock:
                    proxy.forwarded += 1

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def decide(self, method: str, path: str) -> int | None:
        if not path.startswith(f"/{self.bucket}/"):
            return None  # bucket-level calls and other services pass
        with self.lock:
            key = (method, path)
            if key not in self.seen:
                self.seen[key] = [len(self.seen) % self.every == 0, 0]
            chosen, count = self.seen[key]
            self.seen[key][1] = count + 1
            fault = None
            if chosen:
                fault = 503 if count == 0 else (500 if count == 1 and method == "GET" else None)
            if fault:
                self.injected.append((fault, method, path))
            return fault

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
