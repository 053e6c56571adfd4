"""`digest demo`, `init` and `migrate`: the sample week run through the pipeline, and the store."""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy.engine import make_url

from digest import pipeline
from digest.cli.context import Command, Option, console, opened
from digest.cli.fetch import crawl_with_progress
from digest.cli.issue import build_issue
from digest.config import (
    CrawlSettings,
    EmailSettings,
    Settings,
    SiteSettings,
    StoreSettings,
    load_settings,
)
from digest.errors import ConfigError
from digest.ops import Operations

SAMPLE_WEEK = Path(__file__).resolve().parents[2] / "examples" / "sample-week"
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


def cmd_demo(args: argparse.Namespace) -> int:
    folder = sample_week(args.data)
    settings = demo_settings(args.out)
    store = pipeline.Store(settings.store.url)
    ops = Operations(settings, store)
    try:
        with serve(folder) as base:
            console.print(f"serving the sample week from {folder} at {base}")
            sources = pipeline.load_sources(folder / "sources.yaml", base=base)
            policy = pipeline.fetch_policy(settings)
            crawl_with_progress(ops, sources, policy, force=True)
        build_issue(ops, sources, args.week)
    finally:
        store.close()
    config = write_config(args.out)
    console.print(
        f"\nOpen {settings.site.dir / 'index.html'} in a browser, or serve it with "
        f"`python -m http.server 8000 -d {settings.site.dir}` and visit {DEMO_BASE_URL}"
        f"\n`digest status --config {config}` shows the runs, the sources and the last issue."
    )
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    where = make_url(settings.store.url).render_as_string(hide_password=True)
    try:
        pipeline.Store(settings.store.url, create=False).close()
    except pipeline.StoreMissingError:
        pipeline.Store(settings.store.url).close()
        console.print(f"created the store at {where}; next: `digest crawl`")
    else:
        console.print(f"the store at {where} exists already; nothing to do")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    with opened(args.config) as ctx:
        url = ctx.settings.store.url
        store = ctx.store
    before, now = store.migrated
    where = make_url(url).render_as_string(hide_password=True)
    if before == now:
        console.print(f"the store at {where} is at the newest schema revision, {now}")
    else:
        console.print(
            f"upgraded the store at {where} from schema revision {before or 'none'} to {now}"
        )
    return 0


def add_commands(command: Command, with_config: Option, with_week: Option) -> None:
    p = command("demo", "Serve the shipped sample week on 127.0.0.1 and build an issue from it.")
    p.add_argument("--out", type=Path, default=Path("demo-out"), help="output folder")
    p.add_argument("--data", type=Path, default=None, help="sample week folder to serve")
    with_week(p)
    p.set_defaults(run=cmd_demo)

    p = command("init", "Create the store that store.url names (every other command needs it).")
    with_config(p)
    p.set_defaults(run=cmd_init)


def add_migrate(command: Command, with_config: Option) -> None:
    p = command("migrate", "Upgrade the store's schema to this version of digest (Alembic).")
    with_config(p)
    p.set_defaults(run=cmd_migrate)
