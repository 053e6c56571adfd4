"""Chat backends behind one small protocol: any OpenAI-compatible endpoint, or Anthropic."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from digest.errors import ConfigError, LLMCallError
from digest.registry import Registry

DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
DEFAULT_MODEL = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}
# The longest reply read from a model: JSON for one theme fits in a few kilobytes.
MAX_REPLY_CHARS = 20_000


@dataclass(frozen=True)
class Reply:
    """What a model said, and what it cost in tokens."""

    text: str
    input_tokens: int
    output_tokens: int


class ChatBackend(Protocol):
    """One chat completion: a system prompt and a user message in, text out."""

    name: str
    model: str

    def complete(self, system: str, user: str, max_tokens: int, temperature: float) -> Reply: ...


@dataclass(frozen=True)
class Connection:
    """Where and as whom to call: the key is read from the environment, never from a file."""

    backend: str
    model: str
    base_url: str
    key_env: str
    timeout: float


def _key(conn: Connection) -> str:
    env = conn.key_env or DEFAULT_KEY_ENV[conn.backend]
    key = os.environ.get(env, "")
    if key:
        return key
    if conn.base_url:
        return "not-needed"  # local servers (Ollama, vLLM, llama.cpp) accept any key
    raise ConfigError(
        f"[writer] backend = {conn.backend!r} needs an API key: set the environment variable "
        f"{env}, or set [writer] base_url to a server that needs none"
    )


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _missing(extra: str) -> ConfigError:
    return ConfigError(
        f"[writer] backend = {extra!r} needs the {extra} SDK: run `pip install 'digest[{extra}]'` "
        "(or set backend = 'extractive' to write offline)"
    )


CHAT_BACKENDS: Registry[Callable[[Connection], ChatBackend]] = Registry("digest.chat_backends")


@CHAT_BACKENDS.register("openai")
class OpenAIChat:
    """Any OpenAI-compatible chat-completions endpoint, through the official openai SDK."""

    name = "openai"

    def __init__(self, conn: Connection) -> None:
        try:
            import openai
        except ImportError as exc:
            raise _missing("openai") from exc
        self._openai = openai
        self.model = conn.model or DEFAULT_MODEL["openai"]
        self._client = openai.OpenAI(
            api_key=_key(conn),
            base_url=conn.base_url or None,
            timeout=conn.timeout,
            max_retries=0,  # retries, backoff and the circuit breaker are ours
        )

    def complete(self, system: str, user: str, max_tokens: int, temperature: float) -> Reply:
        o = self._openai
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                max_tokens=max_tokens,
                temperature=temperature,
                response_format={"type": "json_object"},
            )
        except o.APITimeoutError as exc:
            raise LLMCallError("timed out", transient=True) from exc
        except o.APIConnectionError as exc:
            raise LLMCallError(f"could not connect ({exc})", transient=True) from exc
        except o.APIStatusError as exc:
            transient = exc.status_code == 429 or exc.status_code >= 500
            raise LLMCallError(
                f"HTTP {exc.status_code}", transient, _retry_after(exc.response)
            ) from exc
        except o.OpenAIError as exc:
            raise LLMCallError(f"unreadable reply ({exc})", transient=False) from exc
        text = response.choices[0].message.content or "" if response.choices else ""
        usage = response.usage
        return Reply(
            text,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )


@CHAT_BACKENDS.register("anthropic")
class AnthropicChat:
    """Anthropic's messages API, through the official anthropic SDK."""

    name = "anthropic"

    def __init__(self, conn: Connection) -> None:
        try:
            import anthropic
        except ImportError as exc:
            raise _missing("anthropic") from exc
        self._anthropic = anthropic
        self.model = conn.model or DEFAULT_MODEL["anthropic"]
        self._client = anthropic.Anthropic(
            api_key=_key(conn),
            base_url=conn.base_url or None,
            timeout=conn.timeout,
            max_retries=0,
        )

    def complete(self, system: str, user: str, max_tokens: int, temperature: float) -> Reply:
        a = self._anthropic
        try:
            message = self._client.messages.create(
                model=self.model,
                system=system,
                messages=[{"role": "user", "content": user}],
                max_tokens=max_tokens,
            )  # no temperature: this SDK's messages API no longer takes one
        except a.APITimeoutError as exc:
            raise LLMCallError("timed out", transient=True) from exc
        except a.APIConnectionError as exc:
            raise LLMCallError(f"could not connect ({exc})", transient=True) from exc
        except a.APIStatusError as exc:
            transient = exc.status_code == 429 or exc.status_code >= 500
            raise LLMCallError(
                f"HTTP {exc.status_code}", transient, _retry_after(exc.response)
            ) from exc
        except a.AnthropicError as exc:
            raise LLMCallError(f"unreadable reply ({exc})", transient=False) from exc
        text = "".join(getattr(block, "text", "") for block in message.content)
        return Reply(text, message.usage.input_tokens, message.usage.output_tokens)


def open_backend(conn: Connection) -> ChatBackend:
    """The chat backend registered under [writer] backend ("openai" and "anthropic" built in)."""
    backend = CHAT_BACKENDS.get(conn.backend)
    if backend is not None:
        return backend(conn)
    raise ConfigError(f"[writer] backend = {conn.backend!r} is not an LLM backend")
