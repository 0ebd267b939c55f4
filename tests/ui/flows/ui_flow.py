"""A run for the UI's browser tests: a foreach with one failing task, a log line with
markup in it, artifacts, and a card with a table and an image."""

import struct
import zlib

from metaflow import FlowSpec, card, current, step
from metaflow.cards import Image, Markdown, Table


def png(width: int, height: int) -> bytes:
    """A solid orange PNG, built with zlib (no imaging library needed)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x8c\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


class UIFlow(FlowSpec):
    @card(type="blank", id="report")
    @step
    def start(self):
        self.shards = ["a", "b", "c"]
        self.config = {"threshold": 0.75, "note": "<b>not bold</b>"}
        print("hello from start <script>window.__pwned = 1</script>")
        current.card["report"].append(Markdown("# Shard report"))
        current.card["report"].append(Table([["a", 1], ["b", 2], ["c", 3]], headers=["shard", "rows"]))
        current.card["report"].append(Image(png(60, 30), label="orange"))
        self.next(self.work, foreach="shards")

    @step
    def work(self):
        print(f"working on {self.input} <img src=x onerror='window.__pwned=2'>")
        if self.input == "b":
            raise ValueError("shard b is broken <script>window.__pwned=3</script>")
        self.result = self.input.upper()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = [i.result for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    UIFlow()
