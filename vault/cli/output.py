"""Printing results: JSON for scripts, a renderer for people."""

from __future__ import annotations

import json
from collections.abc import Callable

import typer


def emit(data, as_json: bool, render: Callable) -> None:
    """Print `data` as JSON or through `render` for people."""
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        render(data)
