"""Test helpers for operations: a word-hashing embedder, a slow feed server, a webhook receiver."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from digest.store import Store

SAMPLE_WEEK = Path(__file__).resolve().parents[1] / "examples" / "sample-week"


class WordHashEmbedder:
    """Bag of hashed words: texts sharing words land close. For scheduling tests only."""

    name = "test-word-hash"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), 256), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]{3,}", text.lower()):
                vectors[row, int(hashlib.md5(word.encode()).hexdigest()[:6], 16) % 256] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)


class _SlowHandler(SimpleHTTPRequestHandler):
    delay = 0.0

    def do_GET(self) -> None:
        time.sleep(self.server.delay)  # type: ignore[attr-defined]
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def feed_server(folder: Path = SAMPLE_WEEK, delay: float = 0.0) -> Iterator[ThreadingHTTPServer]:
    """Serve `folder` on 127.0.0.1, each response `delay` seconds late (changeable: .delay)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_SlowHandler, directory=str(folder)))
    server.delay = delay  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def base_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


class _HookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server on 127.0.0.1 that keeps every JSON body POSTed to it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HookHandler)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", server.received  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def write_config(
    folder: Path, base: str, first: int | None = None, **sections: dict[str, object]
) -> Path:
    """digest.toml and sources.yaml in `folder` for the sample week (its `first` sources), and
    the store it names, as `digest init` makes it."""
    listed = yaml.safe_load((SAMPLE_WEEK / "sources.yaml").read_text())["sources"][:first]
    for source in listed:
        source["url"] = source["url"].replace("{base}", base)
    (folder / "sources.yaml").write_text(yaml.safe_dump({"sources": listed}))
    tables: dict[str, dict[str, object]] = {
        "store": {"url": f"sqlite:///{folder / 'digest.db'}"},
        # One local server stands in for a dozen sites: no per-host politeness.
        "crawl": {"allowed_hosts": ["127.0.0.1"], "deadline": 20.0, "per_host": 8, "host_delay": 0},
        "site": {"base_url": "http://127.0.0.1:8000/", "dir": "site"},
        "email": {"dir": "email"},
    }
    for name, values in sections.items():
        tables.setdefault(name, {}).update(values)
    lines = []
    for name, values in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path = folder / "digest.toml"
    path.write_text("\n".join(lines) + "\n")
    Store(str(tables["store"]["url"])).close()
    return path
