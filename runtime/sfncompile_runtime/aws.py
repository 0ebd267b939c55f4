"""boto3 clients configured the way every AWS call in the runtime wants them.

botocore's *standard* retry mode (exponential backoff with jitter, retries on
throttling and 5xx, transient connection errors) with more attempts than the
default, and one cached client per service per process. boto3 is imported
only here and only on first use, so local-datastore tasks never pay for it.
"""

from __future__ import annotations

import os
import threading

_clients: dict = {}
_lock = threading.Lock()


def client(service: str):
    with _lock:
        found = _clients.get(service)
        if found is not None:
            return found
        import boto3
        from botocore.config import Config

        config = Config(retries={"mode": "standard",
                                 "max_attempts": int(os.environ.get("SFNCOMPILE_AWS_MAX_ATTEMPTS", "8"))},
                        max_pool_connections=32)
        made = boto3.session.Session().client(service, config=config)
        _clients[service] = made
        return made


def reset_after_fork(child: bool) -> None:
    """After a fork, one side keeps the clients (their pooled connections), the other forgets
    them: the child (the step, on the critical path) keeps them warm; the parent makes new
    ones if it needs any (log uploads). The child also gets a fresh lock (another thread may
    have held it at the fork)."""
    global _lock
    if child:
        _lock = threading.Lock()
    else:
        with _lock:
            _clients.clear()
