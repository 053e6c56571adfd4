"""Settings from digest.toml (secrets from the environment) and sources from sources.yaml."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from digest.allowance import parse_allowance
from digest.errors import ConfigError

DEFAULT_CONFIG = Path("digest.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Section):
    url: str = "sqlite:///digest.db"


class CrawlSettings(_Section):
    concurrency: int = Field(8, ge=1, le=256)
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(20.0, gt=0)
    deadline: float = Field(60.0, gt=0)
    max_bytes: int = Field(10 * 1024 * 1024, gt=0)
    allowed_hosts: tuple[str, ...] = ()
    per_host: int = Field(2, ge=1, le=64)
    host_delay: float = Field(1.0, ge=0)
    max_redirects: int = Field(5, ge=0, le=20)
    retry_wait: float = Field(10.0, ge=0)
    max_retry_after: float = Field(21600.0, ge=0)
    backoff_max: float = Field(86400.0, gt=0)
    full_text_pages: int = Field(20, ge=0)

    @field_validator("allowed_hosts")
    @classmethod
    def _allowances(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for entry in v:
            parse_allowance(entry)  # a ValueError names the entry and how to write it
        return tuple(h.strip().lower() for h in v)


class EmbedSettings(_Section):
    model: str = "all-MiniLM-L6-v2"
    backend: str = "torch"  # a name in analyze.EMBEDDERS, checked where the embedder is made
    device: Literal["auto", "cpu", "cuda"] = "auto"
    batch_size: int = Field(64, ge=1)


class AnalyzeSettings(_Section):
    story_threshold: float = Field(0.62, gt=0, lt=1)
    story_window_days: int = Field(14, ge=1)
    min_theme_size: int = Field(3, ge=2)
    max_themes: int = Field(8, ge=1)
    quick_hits: int = Field(12, ge=0)
    topics: Path = Path("topics.toml")


class WriterSettings(_Section):
    backend: str = "extractive"  # a name in WRITERS or CHAT_BACKENDS, checked where used
    stories_per_theme: int = Field(4, ge=1)
    research: int = Field(4, ge=0)
    model: str = ""
    base_url: str = ""
    api_key_env: str = ""
    prompts: Path = Path("prompts")
    temperature: float = Field(0.2, ge=0, le=2)
    max_tokens: int = Field(1200, ge=64)
    timeout: float = Field(60.0, gt=0)
    retries: int = Field(3, ge=0, le=10)
    backoff: float = Field(1.0, ge=0)
    breaker_after: int = Field(3, ge=1)
    budget_tokens: int = Field(200_000, ge=0)
    budget_cost: float = Field(1.0, ge=0)
    price_input: float = Field(0.15, ge=0)
    price_output: float = Field(0.60, ge=0)
    support_threshold: float = Field(0.52, gt=0, lt=1)

    @field_validator("base_url")
    @classmethod
    def _http_base(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must be empty or an http(s) URL, e.g. http://localhost:11434/v1")
        return v


class DiscussionSettings(_Section):
    comments: bool = False  # fetch threads' top comments for "What people said"
    threads: int = Field(12, ge=0, le=200)  # threads read per issue, busiest first
    per_thread: int = Field(5, ge=1, le=50)  # top-level comments kept per thread
    max_bytes: int = Field(1024 * 1024, gt=0)  # largest comments answer accepted


class SiteSettings(_Section):
    title: str = "digest"
    base_url: str = "https://example.com/"
    dir: Path = Path("site")
    templates: Path = Path("templates")
    drafts: Path = Path("drafts")

    @field_validator("base_url")
    @classmethod
    def _ends_with_slash(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL, e.g. https://news.example.com/")
        return v if v.endswith("/") else v + "/"


class EmailSettings(_Section):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    sender: str = Field("digest <digest@example.com>", alias="from")
    to: str = "readers@example.com"
    dir: Path = Path("outbox")
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_cafile: str = ""
    smtp_timeout: float = Field(30.0, gt=0)
    rate_per_minute: float = Field(60.0, gt=0)
    retry_delay: float = Field(30.0, ge=0)
    max_attempts: int = Field(4, ge=1)
    unsubscribe_mailto: str = ""


class ServeSettings(_Section):
    """How `digest serve` bounds its connections and sign-ups."""

    request_timeout: float = Field(10.0, gt=0)  # from connect (or the last answer) to a request
    max_connections: int = Field(2048, ge=16)
    threads: int = Field(8, ge=1, le=256)  # threads for store and SMTP work
    signups_per_client: str = "5/hour"
    signups_per_address: str = "3/day"
    confirm_hours: float = Field(48.0, gt=0)
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")

    @field_validator("signups_per_client", "signups_per_address")
    @classmethod
    def _rate(cls, v: str) -> str:
        from limits import parse

        try:
            parse(v)
        except ValueError:
            raise ValueError(
                f"{v!r} is not a rate; write it like '5/hour', '3 per day' or '10/15 minutes'"
            ) from None
        return v


class ScheduleSettings(_Section):
    crawl_every_minutes: int = Field(15, ge=1)
    analyze_after_crawl: bool = True
    weekly: str = "0 9 * * fri"
    timezone: str = "UTC"
    action: Literal["draft", "publish"] = "draft"
    issue_week: Literal["current", "previous"] = "current"

    @field_validator("weekly")
    @classmethod
    def _crontab(cls, v: str) -> str:
        fields = v.split()
        if len(fields) != 5:
            raise ValueError(f"{v!r} needs 5 fields: minute hour day month weekday")
        if any(c.isdigit() for c in fields[4]):
            raise ValueError(
                f"write the weekday of {v!r} as a name (mon..sun, e.g. 'fri'): weekday "
                "numbers mean different days in crontab and in the scheduler"
            )
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(v, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"{v!r} is not a cron expression ({exc})") from exc
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use a name like 'Europe/Berlin'") from None
        return v


class LogSettings(_Section):
    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class AlertSettings(_Section):
    email: str = ""
    webhook: str = ""
    source_failing_hours: float = Field(24.0, gt=0)

    @field_validator("webhook")
    @classmethod
    def _http(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v


_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


class WebhookTarget(_Section):
    """One place each published issue is POSTed to: a Slack or Discord channel, or any URL."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$")  # the ledger's key: keep it
    format: Literal["slack", "discord", "json"]
    url: str = ""
    url_env: str = ""  # an environment variable holding the URL (Slack's and Discord's are secret)
    secret_env: str = ""  # json: the environment variable holding the HMAC key

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v

    @field_validator("url_env", "secret_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if v and not _ENV_NAME.fullmatch(v):
            raise ValueError(f"{v!r} is not an environment variable name, e.g. DIGEST_HOOK_KEY")
        return v

    @model_validator(mode="after")
    def _complete(self) -> WebhookTarget:
        where = f"target {self.name!r}"
        if bool(self.url) == bool(self.url_env):
            raise ValueError(f"{where}: give exactly one of url and url_env")
        if self.format == "json" and not self.secret_env:
            raise ValueError(
                f"{where}: secret_env is required for format 'json' (its POSTs are signed); "
                "name the environment variable that holds the key"
            )
        if self.format != "json" and self.secret_env:
            raise ValueError(f"{where}: secret_env is only for format 'json'; remove it")
        return self


class WebhookSettings(_Section):
    """Where `digest publish` posts each issue, and how hard it tries."""

    targets: tuple[WebhookTarget, ...] = ()
    timeout: float = Field(10.0, gt=0)  # seconds to connect, and between bytes of the answer
    deadline: float = Field(30.0, gt=0)  # seconds for one whole POST
    max_attempts: int = Field(4, ge=1, le=20)  # tries per target within one run
    retry_delay: float = Field(5.0, ge=0)  # doubled after each failed try
    max_retry_after: float = Field(120.0, ge=0)  # a longer Retry-After defers to the next run

    @field_validator("targets")
    @classmethod
    def _unique(cls, v: tuple[WebhookTarget, ...]) -> tuple[WebhookTarget, ...]:
        names = [t.name for t in v]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"target names must be unique; {', '.join(twice)} appear twice")
        return v


class ExecutorSettings(_Section):
    """Where crawl fetches and embedding batches run: in this process, or on a Ray cluster."""

    kind: str = "local"  # a name in pipeline.executors.EXECUTORS, checked where it is opened
    address: str = ""  # a Ray cluster ("auto", "host:6379", "ray://host:10001"); "": a local Ray
    num_cpus: int = Field(0, ge=0)  # CPUs of the local Ray digest starts; 0: every core
    embed_actors: int = Field(1, ge=1)  # model copies embedding at once
    embed_gpu: Literal["auto", "yes", "no"] = "auto"  # auto: a GPU per actor if the cluster has any
    dataset_from: int = Field(256, ge=1)  # texts in one call from which Ray Data map_batches runs

    @field_validator("address")
    @classmethod
    def _ray_address(cls, v: str) -> str:
        if v and v != "auto" and not re.fullmatch(r"(ray://)?[\w.\-]+:\d+", v):
            raise ValueError(
                f"{v!r} is not a Ray address; use 'auto', 'host:6379' or 'ray://host:10001', "
                "or leave it empty to start a local Ray"
            )
        return v


class Settings(_Section):
    """Everything digest.toml may say; every key has a working default."""

    sources: Path = Path("sources.yaml")
    store: StoreSettings = StoreSettings()
    crawl: CrawlSettings = CrawlSettings()
    embed: EmbedSettings = EmbedSettings()
    analyze: AnalyzeSettings = AnalyzeSettings()
    writer: WriterSettings = WriterSettings()
    discussions: DiscussionSettings = DiscussionSettings()
    site: SiteSettings = SiteSettings()
    email: EmailSettings = EmailSettings()
    serve: ServeSettings = ServeSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    log: LogSettings = LogSettings()
    alerts: AlertSettings = AlertSettings()
    executor: ExecutorSettings = ExecutorSettings()
    webhooks: WebhookSettings = WebhookSettings()


def smtp_password() -> str:
    """The SMTP password, only ever from the environment."""
    return os.environ.get("DIGEST_SMTP_PASSWORD", "")


def webhook_secret(target: WebhookTarget, index: int) -> str:
    """The HMAC key of a json target, from the environment variable it names."""
    value = os.environ.get(target.secret_env, "")
    if len(value) < 16:
        state = "is not set" if not value else "is shorter than 16 characters"
        raise ConfigError(
            f"webhooks.targets.{index}.secret_env: {target.secret_env} {state}; set it to the "
            "key the receiver checks signatures with, e.g. "
            "$(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return value


def webhook_url(target: WebhookTarget, index: int) -> str:
    """The target's URL: as written, or from the environment variable url_env names."""
    if target.url:
        return target.url
    value = os.environ.get(target.url_env, "").strip()
    if not value.startswith(("http://", "https://")):
        state = "is not set" if not value else "does not hold an http(s) URL"
        raise ConfigError(
            f"webhooks.targets.{index}.url_env: {target.url_env} {state}; set it to the "
            f"webhook's URL, or write the URL as webhooks.targets.{index}.url"
        )
    return value


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def load_settings(path: Path | None = None) -> Settings:
    """Read digest.toml (absent is fine: defaults) and apply DIGEST_STORE_URL from the environment.

    Relative paths in the file are taken relative to the file's folder.
    """
    file = path or DEFAULT_CONFIG
    data: dict[str, Any] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{file}: cannot be read as TOML ({exc}); fix the syntax") from exc
    elif path is not None:
        raise ConfigError(
            f"{file}: no such file; pass an existing --config or omit it for defaults"
        )
    try:
        settings = _rebase(Settings.model_validate(data), file.parent)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{file}: {problems}") from exc
    if url := os.environ.get("DIGEST_STORE_URL"):  # as given: it is not in the file
        store = settings.store.model_copy(update={"url": url})
        settings = settings.model_copy(update={"store": store})
    return settings


def _rebase(settings: Settings, root: Path) -> Settings:
    def at(p: Path) -> Path:
        return p if p.is_absolute() else root / p

    site = settings.site.model_copy(
        update={
            "dir": at(settings.site.dir),
            "templates": at(settings.site.templates),
            "drafts": at(settings.site.drafts),
        }
    )
    email = settings.email.model_copy(update={"dir": at(settings.email.dir)})
    writer = settings.writer.model_copy(update={"prompts": at(settings.writer.prompts)})
    store = settings.store.model_copy(update={"url": _rebase_sqlite(settings.store.url, root)})
    analyze = settings.analyze.model_copy(update={"topics": at(settings.analyze.topics)})
    return settings.model_copy(
        update={
            "sources": at(settings.sources),
            "site": site,
            "email": email,
            "writer": writer,
            "store": store,
            "analyze": analyze,
        }
    )


def _rebase_sqlite(url: str, root: Path) -> str:
    """A SQLite URL whose relative file path is taken from root; any other URL as it is."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # Store names the bad URL when it opens it
    database = parsed.database or ""
    if (
        not parsed.drivername.startswith("sqlite")
        or database in ("", ":memory:")
        or database.startswith("file:")
        or Path(database).is_absolute()
    ):
        return url
    absolute = str((root / database).resolve())
    return parsed.set(database=absolute).render_as_string(hide_password=False)
