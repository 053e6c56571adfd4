"""`digest cluster`: group a JSONL file of items into stories and themes, with no store."""

from __future__ import annotations

import argparse
from pathlib import Path

from digest import pipeline
from digest.cli.context import Command, console
from digest.config import EmbedSettings


def cmd_cluster(args: argparse.Namespace) -> int:
    articles = pipeline.read_items(args.input)
    with console.status(f"embedding and clustering {len(articles)} items"):
        assignments = pipeline.cluster_items(
            articles, args.cache, args.model, args.backend, args.threshold
        )
    pipeline.write_assignments(assignments, args.output)
    stories = len({a.story for a in assignments})
    themes = len({a.theme for a in assignments if a.theme})
    console.print(
        f"{len(assignments)} items in {stories} stories and {themes} themes: {args.output}"
    )
    return 0


def add_commands(command: Command) -> None:
    p = command(
        "cluster",
        "Group a JSONL file of items into stories and themes, offline, with the shipped defaults.",
    )
    p.add_argument(
        "--input",
        type=Path,
        required=True,
        help="JSONL, one item a line: id, title, text, url, published_at, source",
    )
    p.add_argument(
        "--output",
        type=Path,
        required=True,
        help='JSONL written, one line per item: {"id", "story", "theme"}',
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="SQLite file keeping vectors between runs (default: none, embed every run)",
    )
    p.add_argument(
        "--model",
        default="all-MiniLM-L6-v2",
        help="sentence-transformers model name or path (default: the shipped all-MiniLM-L6-v2)",
    )
    p.add_argument(
        "--backend",
        default=EmbedSettings().backend,
        help="embedding backend: torch, onnx-int8 or a plugin's (default: embed.backend's default)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="story similarity threshold (default: analyze.story_threshold's default)",
    )
    p.set_defaults(run=cmd_cluster)
