"""The DigestError tree: every message names what failed and what to do about it."""


class DigestError(Exception):
    """Base of every error digest raises on purpose."""


class ConfigError(DigestError):
    """digest.toml or sources.yaml is missing, unreadable or invalid."""


class FetchError(DigestError):
    """A source could not be fetched: unreachable, refused, too slow, too big or blocked."""


class FeedError(DigestError):
    """A source answered, but not with a feed we can read."""


class StoreError(DigestError):
    """The store could not be opened or written."""


class StoreMissingError(StoreError):
    """The store does not exist yet and the command may not create it (`digest init` does)."""


class AnalyzeError(DigestError):
    """Embedding or clustering failed."""


class PublishError(DigestError):
    """The issue could not be rendered or written."""


class SubscriberError(DigestError):
    """A subscriber address or list could not be read."""


class WriteError(DigestError):
    """The write stage could not write a section (the issue falls back to extractive text)."""


class LLMCallError(WriteError):
    """One call to a language model failed; transient ones (429, 5xx, timeouts) are retried."""

    def __init__(self, message: str, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
