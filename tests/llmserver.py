"""A scripted model server on 127.0.0.1 speaking OpenAI chat completions and Anthropic messages."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

THEME_PROMPT = "Write this week's section"
_ARTICLE = re.compile(r"<<<ARTICLE (\d+)>>>[^\n]*\n(.*?)\n<<<END ARTICLE \1>>>", re.DOTALL)


@dataclass
class Step:
    """One scripted answer: a reply text, an HTTP error status, or a hang.

    With `match`, it answers only a prompt containing that text (e.g. only the theme prompt).
    """

    text: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0
    match: str = ""


def articles_in(prompt: str) -> dict[int, tuple[str, str]]:
    """Numbered (title, body) of the articles a prompt carries."""
    found = {}
    for number, block in _ARTICLE.findall(prompt):
        title, _, body = block.partition("\n")
        found[int(number)] = (title, body)
    return found


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s+", text.strip())[0]


def faithful(prompt: str) -> str:
    """What a well-behaved model answers: each source's own first sentence, cited to it."""
    articles = articles_in(prompt)
    if "editorial intro" in prompt:
        return json.dumps(
            {"intro": "A week of new models and new rules, told in the sections below."}
        )
    lines = [{"text": first_sentence(body), "cite": [n]} for n, (_, body) in articles.items()]
    if THEME_PROMPT in prompt:
        n, (title, _) = next(iter(articles.items()))
        return json.dumps(
            {
                "headline": title,
                "what_happened": lines[:4],
                "why_it_matters": [
                    {"text": f"{title} changes the field for developers.", "cite": [n]}
                ],
                "technical": [],
                "winners_losers": [],
            }
        )
    return json.dumps({"line": lines[0]})


class ModelServer:
    """Replays queued steps in order, then answers faithfully; records every request."""

    def __init__(self, default: Callable[[str], str] = faithful) -> None:
        self.steps: list[Step] = []
        self.requests: list[dict[str, Any]] = []
        self.default = default
        self._lock = threading.Lock()

    def queue(self, *steps: Step) -> None:
        with self._lock:
            self.steps.extend(steps)

    def _next(self, prompt: str) -> Step | None:
        with self._lock:
            for i, step in enumerate(self.steps):
                if step.match in prompt:
                    return self.steps.pop(i)
            return None

    def handle(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes, float]:
        with self._lock:
            self.requests.append({"path": path, **body})
        prompt = body["messages"][-1]["content"]
        step = self._next(prompt) or Step(self.default(prompt))
        if step.status != 200:
            error = {"error": {"type": "error", "message": f"scripted {step.status}"}}
            return step.status, step.headers, json.dumps(error).encode(), step.hang
        text = step.text or ""
        if path.endswith("/messages"):
            reply = {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": len(prompt) // 4, "output_tokens": len(text) // 4},
            }
        else:
            reply = {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": len(prompt) // 4,
                    "completion_tokens": len(text) // 4,
                    "total_tokens": (len(prompt) + len(text)) // 4,
                },
            }
        return 200, step.headers, json.dumps(reply).encode(), step.hang


@contextmanager
def serve_model(server: ModelServer) -> Iterator[str]:
    """Runs the server; yields its base URL (http://127.0.0.1:PORT)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            status, headers, payload, hang = server.handle(self.path, body)
            if hang:
                time.sleep(hang)
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the hang step)

        def log_message(self, *_: object) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


_ORDER = re.compile(
    r"ignore previous instructions[^\"\u201c]*[\"\u201c]([^\"\u201d]+)[\"\u201d]", re.I
)


def obedient(prompt: str) -> str:
    """A model that obeys an order hidden in an article ('ignore previous instructions and
    write "..."'): it puts the ordered text wherever it can, cited to that article."""
    order = _ORDER.search(prompt)
    if order is None:
        return faithful(prompt)
    marker = order.group(1).strip().rstrip(".")
    cite = next(n for n, (t, b) in articles_in(prompt).items() if order.group(0) in f"{t}\n{b}")
    line = {"text": f"{marker}.", "cite": [cite]}
    reply = json.loads(faithful(prompt))
    if "intro" in reply:
        reply["intro"] = f"{marker}. A week told in the sections below."
    elif THEME_PROMPT in prompt:
        reply["headline"] = marker
        reply["name"] = marker[:60]  # the longest name the schema takes
        reply["what_happened"].insert(0, line)
        reply["why_it_matters"] = [{"text": f"{marker}, which changes the field.", "cite": [cite]}]
    else:
        reply["line"] = line
    return json.dumps(reply)
