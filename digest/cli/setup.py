"""The demo: the shipped sample week served on 127.0.0.1 and run through the real pipeline."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from digest.config import (
    CrawlSettings,
    EmailSettings,
    Settings,
    SiteSettings,
    StoreSettings,
)
from digest.errors import ConfigError

SAMPLE_WEEK = Path(__file__).resolve().parents[1] / "examples" / "sample-week"
DEMO_BASE_URL = "http://127.0.0.1:8000/"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve a folder over HTTP on a free port of 127.0.0.1; yields the base URL."""
    handler = partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def sample_week(data: Path | None = None) -> Path:
    """The folder holding the sample week's feeds and sources.yaml."""
    folder = data or SAMPLE_WEEK
    if not (folder / "sources.yaml").is_file():
        raise ConfigError(
            f"{folder}: no sample week here (sources.yaml missing); run the demo from a "
            "checkout of digest or pass --data"
        )
    return folder


def demo_settings(out: Path) -> Settings:
    """Settings that keep everything the demo writes under `out`."""
    out = out.resolve()
    return Settings(
        store=StoreSettings(url=f"sqlite:///{out / 'digest.db'}"),
        # One local server stands in for a dozen sites, so no per-host politeness.
        crawl=CrawlSettings(allowed_hosts=("127.0.0.1",), deadline=20.0, per_host=8, host_delay=0),
        site=SiteSettings(title="digest", base_url=DEMO_BASE_URL, dir=out / "site"),
        email=EmailSettings(dir=out / "email"),
    )


def write_config(out: Path) -> Path:
    """A digest.toml in `out` pointing at the demo's store and output, for `digest status`."""
    out = out.resolve()
    path = out / "digest.toml"
    store_url = json.dumps(f"sqlite:///{out / 'digest.db'}")
    path.write_text(
        "# Written by `digest demo`: its store and output, for `digest status --config` here.\n"
        "# There is no sources.yaml: the demo served its feeds on a port that is closed now.\n\n"
        f"[store]\nurl = {store_url}\n\n"
        f'[site]\nbase_url = "{DEMO_BASE_URL}"\ndir = "site"\n\n'
        '[email]\ndir = "email"\n',
        encoding="utf-8",
    )
    return path
