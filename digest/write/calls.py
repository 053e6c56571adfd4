"""Calling a model with care: response cache, token and cost budget, retries, circuit breaker."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from digest.errors import LLMCallError
from digest.write.backends import MAX_REPLY_CHARS, ChatBackend, Reply

CHARS_PER_TOKEN = 4  # a rough count, only to decide whether a call fits the budget
MAX_RETRY_WAIT = 60.0


class ResponseCache(Protocol):
    """Where replies are kept by key (the store implements this)."""

    def llm_response(self, key: str) -> tuple[str, int, int] | None: ...

    def save_llm_response(
        self, key: str, model: str, text: str, input_tokens: int, output_tokens: int
    ) -> None: ...


class NoCache:
    """A cache that keeps nothing, for runs without a store."""

    def llm_response(self, key: str) -> tuple[str, int, int] | None:
        return None

    def save_llm_response(
        self, key: str, model: str, text: str, input_tokens: int, output_tokens: int
    ) -> None:
        return None


@dataclass(frozen=True)
class CallPolicy:
    """The limits one run of the writer keeps to."""

    max_tokens: int = 1200
    temperature: float = 0.2
    retries: int = 3
    backoff: float = 1.0
    breaker_after: int = 3
    budget_tokens: int = 200_000
    budget_cost: float = 1.0
    price_input: float = 0.15  # per million tokens
    price_output: float = 0.60


@dataclass
class Usage:
    """Calls, tokens and estimated cost of one run: what the run summary reports."""

    calls: int = 0
    cached: int = 0
    failed: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    skipped_budget: int = 0
    skipped_breaker: int = 0
    problems: list[str] = field(default_factory=list)


class BudgetSpent(LLMCallError):
    """The run's token or cost budget is spent: no more calls this run."""


class CircuitOpen(LLMCallError):
    """Too many calls in a row failed: no more calls this run."""


class Caller:
    """Sends prompts to one backend, never more than the budget, never twice for the same prompt."""

    def __init__(
        self,
        backend: ChatBackend,
        cache: ResponseCache,
        policy: CallPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._backend = backend
        self._cache = cache
        self._policy = policy
        self._sleep = sleep
        self._failures_in_a_row = 0
        self.usage = Usage()

    def key(self, system: str, user: str) -> str:
        p = self._policy
        parts = {
            "backend": self._backend.name,
            "model": self._backend.model,
            "system": system,
            "user": user,
            "max_tokens": p.max_tokens,
            "temperature": p.temperature,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def _cost(self, input_tokens: int, output_tokens: int) -> float:
        p = self._policy
        return (input_tokens * p.price_input + output_tokens * p.price_output) / 1_000_000

    def _check_budget(self, system: str, user: str) -> None:
        u, p = self.usage, self._policy
        expected_in = (len(system) + len(user)) // CHARS_PER_TOKEN
        tokens = u.input_tokens + u.output_tokens + expected_in + p.max_tokens
        cost = u.cost + self._cost(expected_in, p.max_tokens)
        if tokens > p.budget_tokens or cost > p.budget_cost:
            u.skipped_budget += 1
            raise BudgetSpent(
                f"budget reached ({u.input_tokens + u.output_tokens} tokens, ${u.cost:.4f})",
                transient=False,
            )

    def ask(self, system: str, user: str) -> str:
        """The model's reply to this prompt: from the cache when asked before, else one call."""
        key = self.key(system, user)
        hit = self._cache.llm_response(key)
        if hit is not None:
            self.usage.cached += 1
            return hit[0]
        if self._failures_in_a_row >= self._policy.breaker_after:
            self.usage.skipped_breaker += 1
            raise CircuitOpen(
                f"{self._failures_in_a_row} calls in a row failed; no more calls this run",
                transient=False,
            )
        self._check_budget(system, user)
        try:
            reply = self._with_retries(system, user)
        except LLMCallError as exc:
            self._failures_in_a_row += 1
            self.usage.failed += 1
            self.usage.problems.append(str(exc))
            raise
        self._failures_in_a_row = 0
        text = reply.text[: MAX_REPLY_CHARS + 1]
        self._cache.save_llm_response(
            key, self._backend.model, text, reply.input_tokens, reply.output_tokens
        )
        return text

    def _with_retries(self, system: str, user: str) -> Reply:
        p = self._policy
        attempt = 0
        while True:
            self.usage.calls += 1
            try:
                reply = self._backend.complete(system, user, p.max_tokens, p.temperature)
            except LLMCallError as exc:
                if not exc.transient or attempt >= p.retries:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else p.backoff * 2**attempt
                attempt += 1
                self.usage.retries += 1
                self._sleep(min(wait, MAX_RETRY_WAIT))
                continue
            self.usage.input_tokens += reply.input_tokens
            self.usage.output_tokens += reply.output_tokens
            self.usage.cost += self._cost(reply.input_tokens, reply.output_tokens)
            return reply
