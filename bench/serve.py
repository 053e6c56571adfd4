"""`digest serve` under load: pages at concurrency 300 with 1,000 idle connections held open
alongside, against the http.server implementation it replaced, in the same run.

Run by hand: `.venv/bin/python bench/serve.py [--requests 3000] [--concurrency 300]
[--idle 1000]`. Both servers run in processes of their own on 127.0.0.1 and serve the same
site (a year of issues); digest's goes through the CLI (`digest serve`). Each request opens
its own connection and fails after 10 s. Half of the idle connections send nothing, half send
half a request head; one the server closes is opened again while the load runs. Ends with one
line of JSON holding the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.publish import year_of_issues
from digest.publish import PublishSettings, build_site
from tests.smtp import free_port

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 10.0
REQUEST_TIMEOUT = 10.0  # digest serve's default serve.request_timeout
_HEADERS = {  # what the old server added to every answer
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class _OldHandler(SimpleHTTPRequestHandler):
    """The static half of digest serve before this change (http.server, a thread a connection)."""

    def log_message(self, format: str, *args: object) -> None:
        return None

    def end_headers(self) -> None:
        for name, value in _HEADERS.items():
            self.send_header(name, value)
        super().end_headers()


def _old_server(site: str, port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(_OldHandler, directory=site))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


@dataclass
class Probe:
    """Peak threads and memory of a server process, sampled while the load runs."""

    pid: int
    threads: int = 0
    rss_mib: float = 0.0
    running: bool = True

    def status(self) -> dict[str, int]:
        text = Path(f"/proc/{self.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        return {k: int(fields[k].split()[0]) for k in ("Threads", "VmRSS", "VmHWM")}

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")

    async def watch(self) -> None:
        while self.running:
            s = self.status()
            self.threads = max(self.threads, s["Threads"])
            self.rss_mib = max(self.rss_mib, s["VmRSS"] / 1024)
            await asyncio.sleep(0.2)


@dataclass
class Idle:
    """Connections that never finish a request; reopened when closed until `holding` ends."""

    port: int
    holding: bool = True
    open: int = 0
    closed_by_server: int = 0
    failed: int = 0
    closed_at: list[float] = field(default_factory=list)

    async def one(self, n: int) -> None:
        while self.holding:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                self.failed += 1
                await asyncio.sleep(0.5)
                continue
            self.open += 1
            if n % 2:
                writer.write(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            try:
                while await reader.read(65536):
                    pass
            except OSError:
                pass
            self.open -= 1
            self.closed_by_server += 1
            self.closed_at.append(time.monotonic())
            writer.close()


async def _fetch(port: int, path: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    if not data.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")) or b"</html>" not in data:
        raise ValueError(data[:40])


async def _load(port: int, pages: list[str], requests: int, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    issued = 0

    async def client() -> None:
        nonlocal issued
        while issued < requests:
            path = pages[issued % len(pages)]
            issued += 1
            start = time.perf_counter()
            try:
                await asyncio.wait_for(_fetch(port, path), TIMEOUT)
            except (OSError, ValueError, TimeoutError) as exc:
                name = type(exc).__name__
                errors[name] = errors.get(name, 0) + 1
            latencies.append(time.perf_counter() - start)  # a failure counts as its wait

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 1)

    return {
        "ok": len(latencies) - sum(errors.values()),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "p50_ms": pct(0.50) if latencies else None,
        "p99_ms": pct(0.99) if latencies else None,
        "max_ms": pct(1.0) if latencies else None,
        "per_second": round((len(latencies) - sum(errors.values())) / elapsed, 1),
    }


async def _measure(
    port: int, pid: int, pages: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    probe = Probe(pid)
    idle = Idle(port)
    watcher = asyncio.create_task(probe.watch())
    holders = []
    for n in range(args.idle):  # opened in steps, so a short listen backlog does not drop them
        holders.append(asyncio.create_task(idle.one(n)))
        if n % 50 == 49:
            await asyncio.sleep(0.05)
    deadline = time.monotonic() + 20
    while idle.open < args.idle and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    idle_at_start = idle.open
    cpu, own = probe.cpu_seconds(), time.process_time()
    result = await _load(port, pages, args.requests, args.concurrency)
    done = max(result["ok"], 1)
    result["server_cpu_ms_per_request"] = round((probe.cpu_seconds() - cpu) * 1000 / done, 3)
    # the load's own cost, idle connections included: on 2 cores it competes with the server
    result["client_cpu_ms_per_request"] = round((time.process_time() - own) * 1000 / done, 3)
    idle.holding = False  # from here on nothing is reopened: does the server close them?
    stopped = time.monotonic()
    while idle.open and time.monotonic() - stopped < REQUEST_TIMEOUT + 5:
        await asyncio.sleep(0.2)
    probe.running = False
    await watcher
    left_open = idle.open
    for task in holders:
        task.cancel()
    await asyncio.gather(*holders, return_exceptions=True)
    return {
        **result,
        "idle_open_at_start": idle_at_start,
        "idle_closed_by_server": idle.closed_by_server,
        "idle_still_open_after_s": {REQUEST_TIMEOUT + 5: left_open},
        "peak_threads": probe.threads,
        "peak_rss_mib": round(probe.rss_mib, 1),
    }


def _client_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for the load, where installed: the client should cost less than the servers."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _wait_ready(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text()[-2000:]}")
        try:
            asyncio.run(asyncio.wait_for(_fetch(port, "/index.html"), 2))
            return
        except (OSError, ValueError, TimeoutError):
            if time.monotonic() > deadline:
                raise SystemExit("the server did not answer within 120 s") from None
            time.sleep(0.2)


def _run(name: str, command: list[str], port: int, pages: list[str], args: argparse.Namespace,
         env: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    log = Path(tempfile.mkstemp(prefix="bench-serve-", suffix=".log")[1])
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(port, server, log)
        print(f"{name}: serving on {port}, loading...", flush=True)
        rss_at_start = Probe(server.pid).status()["VmRSS"] / 1024
        with asyncio.Runner(loop_factory=_client_loop()) as runner:
            figures = runner.run(_measure(port, server.pid, pages, args))
        return {**figures, "rss_at_start_mib": round(rss_at_start, 1)}
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=300)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--old-server", nargs=2, metavar=("SITE", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.old_server:
        _old_server(args.old_server[0], int(args.old_server[1]))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    issues = year_of_issues()
    build_site(issues[0], issues[1:], PublishSettings(tmp / "site", tmp / "email", "http://x/"))
    pages = sorted("/" + str(p.relative_to(tmp / "site")) for p in (tmp / "site").rglob("*.html"))
    config = tmp / "digest.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp / "digest.db"}"\n[site]\ndir = "site"\n')
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DIGEST_UNSUBSCRIBE_SECRET": "bench-secret-0123456789abcdef",
    }
    # `digest serve` opens an existing store only: make it as a user would.
    subprocess.run(
        [sys.executable, "-m", "digest.cli", "init", "--config", str(config)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    figures = {
        "old": _run(
            "http.server",
            [sys.executable, __file__, "--old-server", str(tmp / "site"), str(port)],
            port,
            pages,
            args,
            env,
        )
    }
    port = free_port()
    figures["new"] = _run(
        "digest serve",
        [sys.executable, "-m", "digest.cli", "serve", "--config", str(config), "--port", str(port)],
        port,
        pages,
        args,
        env,
    )
    old, new = figures["old"], figures["new"]
    for name, f in (("http.server", old), ("digest serve", new)):
        print(
            f"{name:>13}: {f['ok']} ok, {f['errors']} errors {f['error_kinds']}, "
            f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, {f['per_second']}/s, "
            f"{f['server_cpu_ms_per_request']} ms server CPU a page (client "
            f"{f['client_cpu_ms_per_request']}); idle open {f['idle_open_at_start']}"
            f", closed by the server {f['idle_closed_by_server']}; peak {f['peak_threads']} "
            f"threads, RSS {f['rss_at_start_mib']} MiB before, {f['peak_rss_mib']} MiB at most"
        )
    ratio = {
        "p99_old_over_new": round(old["p99_ms"] / new["p99_ms"], 2)
        if old["p99_ms"] and new["p99_ms"]
        else None,
        "errors_old_minus_new": old["errors"] - new["errors"],
        "threads_old_over_new": round(old["peak_threads"] / new["peak_threads"], 1),
    }
    goal = new["errors"] == 0 and (new["p99_ms"] or 1e9) < 500
    print(
        json.dumps(
            {
                "requests": args.requests,
                "concurrency": args.concurrency,
                "idle": args.idle,
                "pages": len(pages),
                **figures,
                "ratio": ratio,
                "goal_met": goal,
            }
        )
    )


if __name__ == "__main__":
    main()
