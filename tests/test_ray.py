"""The Ray executor on a local Ray: the demo's issue, full text, the address guard in tasks."""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from digest import cli, pipeline
from digest.analyze.embed import SentenceTransformerEmbedder, make_embedder
from digest.cli import setup as demo
from digest.config import EmbedSettings, ExecutorSettings, Settings, load_settings
from digest.crawl import FetchPolicy
from digest.errors import ConfigError
from digest.models import Issue, Source
from digest.pipeline.executors import Executor, close_executors, executor_for
from digest.store import Store
from digest.store.serialize import issue_to_json
from tests.loopback import Reply, serve

pytestmark = pytest.mark.slow
RAY = ExecutorSettings(kind="ray", num_cpus=2, dataset_from=32)  # the week's articles: Ray Data
DATA = Path(__file__).parent / "data" / "crawl"
POLICY = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), deadline=5.0, retry_wait=0)


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time) of every process, from /proc."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended while we looked
        found[int(stat.parent.name)] = (int(fields[1]), fields[19])
    return found


def _descendants() -> dict[int, str]:
    """This process's descendants (pid -> start time)."""
    table, found, todo = _processes(), {}, [os.getpid()]
    while todo:
        parent = todo.pop()
        for pid, (ppid, started) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = started
                todo.append(pid)
    return found


def _described(pids: set[int]) -> list[str]:
    return [f"{p}: {' '.join(_cmdline(p).decode(errors='replace').split(chr(0)))}" for p in pids]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[Executor]:
    """One local Ray for the module, started from [executor] settings; gone with its processes."""
    try:
        import ray
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("ray is not installed; CI must run the Ray tests (pip install -e .[test])")
        pytest.skip("ray is not installed: pip install 'digest[ray]' to run the Ray tests")
    before = _descendants()  # a crawl's parse pool, say: not Ray's
    executor = executor_for(RAY)
    assert ray.is_initialized()
    try:
        yield executor
    finally:
        ours = {p: s for p, s in _descendants().items() if p not in before}
        close_executors()
    assert ours, "the local Ray's processes should be this process's descendants"
    assert not ray.is_initialized()
    deadline = time.monotonic() + 20
    while left := {p for p, s in _processes().items() if ours.get(p) == s[1]}:
        assert time.monotonic() < deadline, f"Ray left processes behind: {_described(left)}"
        time.sleep(0.2)


@dataclass
class DemoRun:
    issue: Issue
    story_of: dict[str, str]


def _demo(out: Path, executor: ExecutorSettings) -> DemoRun:
    on_sqlite = demo.demo_settings

    def with_executor(folder: Path) -> Settings:
        return on_sqlite(folder).model_copy(update={"executor": executor})

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo, "demo_settings", with_executor)
        mp.setattr(cli.console, "print", lambda *a, **_: None)
        assert cli.main(["demo", "--out", str(out)]) == 0
    store = Store(f"sqlite:///{out / 'digest.db'}")
    issue = store.issue("2026-w47")
    store.close()
    assert issue is not None
    with sqlite3.connect(out / "digest.db") as db:
        story_of = dict(db.execute("select article_id, story_id from story_articles").fetchall())
    return DemoRun(issue, story_of)


def _counting(calls: Counter[str], name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return method(*args, **kwargs)

    return counted


def test_demo_on_ray_makes_the_same_issue(
    ray_executor: Executor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole demo with fetches and embeddings on Ray: the same stories, the same issue."""
    from digest.pipeline.executors.ray_cluster import RayEmbedder, RayExecutor

    local = _demo(tmp_path / "local", ExecutorSettings())
    calls: Counter[str] = Counter()
    for cls, name in (
        (RayExecutor, "crawl"),
        (RayEmbedder, "_on_dataset"),
        (RayEmbedder, "_on_actor"),
    ):
        monkeypatch.setattr(cls, name, _counting(calls, name, getattr(cls, name)))
    on_ray = _demo(tmp_path / "ray", RAY)
    # The crawl ran as Ray tasks, the week's articles went through Ray Data, the writer's
    # sentences to the long-lived actor.
    assert calls["crawl"] >= 1 and calls["_on_dataset"] >= 1 and calls["_on_actor"] >= 1
    assert on_ray.story_of == local.story_of

    def told(issue: Issue) -> str:  # all but when it was built and published, and the port
        text = issue_to_json(
            replace(issue, built_at=local.issue.built_at, published_at=local.issue.published_at)
        )
        return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1", text)

    assert told(on_ray.issue) == told(local.issue)


def _rss(links: Sequence[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        "<pubDate>Mon, 07 Jul 2025 10:00:00 +0000</pubDate></item>"
        for title, link in links
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://blog.example.com/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def test_full_text_robots_and_known_pages_on_ray(ray_executor: Executor, tmp_path: Path) -> None:
    """Article pages come from a second task; robots.txt and known URLs from the driver."""
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    routes = {
        "/article": Reply((DATA / "article.html").read_bytes(), "text/html; charset=utf-8"),
        "/paywall": Reply((DATA / "paywall.html").read_bytes(), "text/html; charset=utf-8"),
        "/robots.txt": Reply(b"User-agent: *\nDisallow: /private/\n", "text/plain"),
    }
    with serve(routes) as server:  # type: ignore[arg-type]
        pages = [("Kimi K2 released", "/article"), ("Big scoop", "/paywall"), ("Gone", "/missing")]
        pages.append(("Private", "/private/page"))
        routes["/feed"] = Reply(
            _rss([(t, f"{server.base}{p}") for t, p in pages]), "application/rss+xml"
        )
        source = Source("Blog", "feed", f"{server.base}/feed", full_text=True)
        pipeline.crawl([source], store, POLICY, executor=ray_executor)
        assert len(server.hits("/robots.txt")) == 1
        stored = {a.title: a for a in store.articles_between(date(2025, 7, 7), date(2025, 7, 8))}
        pipeline.crawl([source], store, POLICY, force=True, executor=ray_executor)
        assert len(server.hits("/article")) == 1  # a page the store holds is not fetched again
        assert len(server.hits("/robots.txt")) == 1  # the file the first task fetched was kept
    assert stored["Kimi K2 released"].text_status == "full"
    assert "fifteen trillion tokens" in stored["Kimi K2 released"].full_text
    assert stored["Big scoop"].text_status == "blurb"
    assert stored["Gone"].text_status == "failed"
    assert stored["Private"].text_status == "failed"
    assert store.robots_files()[server.base][0] == 200
    store.close()


def test_the_address_guard_holds_inside_ray_tasks(ray_executor: Executor, tmp_path: Path) -> None:
    """Loopback is refused in a task unless the host is allowed by name, as it is locally."""
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    routes = {"/feed": Reply(b"", "application/rss+xml")}
    with serve(routes) as server:  # type: ignore[arg-type]
        routes["/feed"] = Reply(_rss([("A", f"{server.base}/a")]), "application/rss+xml")
        source = Source("Blog", "feed", f"{server.base}/feed")
        strict = replace(POLICY, allowed_hosts=frozenset())
        refused = pipeline.crawl([source], store, strict, executor=ray_executor)
        allowed = pipeline.crawl([source], store, POLICY, force=True, executor=ray_executor)
    (error,) = [o.error for o in refused.failed]
    assert "loopback" in str(error) and "crawl.allowed_hosts" in str(error)
    assert len(server.hits("/feed")) == 1  # only the allowed crawl reached the server
    assert allowed.new_articles == 1
    store.close()


def test_ray_embeds_like_the_local_model_in_input_order(ray_executor: Executor) -> None:
    """Two actors, the slow batch first: vectors come back out of order and are put back."""
    long = " ".join(["an export rule for chips that runs on and on"] * 30)
    texts = [f"{i} {long}" for i in range(8)] + [f"release {i}" for i in range(56)]
    embed = EmbedSettings(batch_size=8)
    two_actors = executor_for(RAY.model_copy(update={"embed_actors": 2}))
    on_ray = two_actors.embedder(embed).embed(texts)
    local = SentenceTransformerEmbedder(embed.model, "cpu", embed.batch_size).embed(texts)
    assert on_ray.shape == local.shape == (64, 384)
    assert np.allclose(on_ray, local, atol=1e-5)


def test_ray_embeds_with_the_configured_backend(ray_executor: Executor) -> None:
    """[embed] backend = "onnx-int8" holds on Ray too: the same vectors, cached under the same
    name, as the local onnx-int8 embedder (not the torch model's)."""
    texts = [f"Qwen3.5-{size}B open weights release {i}" for i, size in enumerate(range(7, 71))]
    embed = EmbedSettings(backend="onnx-int8", batch_size=16)
    embedder = executor_for(RAY).embedder(embed)
    local = make_embedder(embed.model, "onnx-int8")
    assert embedder.name == local.name != embed.model
    assert np.allclose(embedder.embed(texts), local.embed(texts), atol=1e-5)


def test_a_gpu_asked_for_on_a_cluster_without_one_is_refused(ray_executor: Executor) -> None:
    import ray

    if ray.cluster_resources().get("GPU"):  # type: ignore[no-untyped-call]
        pytest.skip("this Ray has a GPU")
    with pytest.raises(ConfigError, match="embed_gpu = 'yes' but the Ray cluster has no GPU"):
        executor_for(RAY.model_copy(update={"embed_gpu": "yes"}))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('address = "http://head:8265"', "executor.address: Value error, 'http://head:8265' is"),
        ("embed_actors = 0", "executor.embed_actors: Input should be greater than or equal to 1"),
    ],
)
def test_bad_executor_settings_are_named(tmp_path: Path, line: str, message: str) -> None:
    config = tmp_path / "digest.toml"
    config.write_text(f"[executor]\n{line}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert message in str(raised.value)


def test_an_unknown_executor_is_refused_when_opened_naming_those_known(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text('[executor]\nkind = "spark"\n')
    settings = load_settings(config)  # a package may register "spark"
    with pytest.raises(ConfigError, match="kind = 'spark' is unknown; use 'local' or 'ray'"):
        executor_for(settings.executor)


def test_the_ray_executor_without_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails as if not installed
    monkeypatch.delitem(sys.modules, "digest.pipeline.executors.ray_cluster", raising=False)
    with pytest.raises(ConfigError, match=re.escape("pip install 'digest[ray]'")):
        executor_for(ExecutorSettings(kind="ray", address="auto"))
