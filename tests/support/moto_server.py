"""One moto server per test session, on 127.0.0.1 and a free port.

Tests get a ``MotoServer`` with its ``endpoint``; ``reset()`` clears every
service's state (cheaper than a new server). Credentials and region are set
in the environment so boto3 calls made by the code under test (and by
subprocesses it starts) reach the server.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from dataclasses import dataclass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MotoServer:
    port: int
    server: object

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "MOTO_PORT": str(self.port),
        }

    def _post(self, path: str, body: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        req = urllib.request.Request(self.endpoint + path, data=data, method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def reset(self) -> None:
        self._post("/moto-api/reset")

    def configure(self, config: dict) -> None:
        self._post("/moto-api/config", config)

    def stop(self) -> None:
        self.server.stop()


def start_moto_server() -> MotoServer:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return MotoServer(port=port, server=server)
