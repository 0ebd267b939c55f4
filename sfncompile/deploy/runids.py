"""Run ids: ``<UTC yyyymmddThhmmss>-<6 hex>`` — sort by start time, valid execution names."""

from __future__ import annotations

import re
import secrets
import time

RUN_ID = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}$")


def new_run_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(3)}"
