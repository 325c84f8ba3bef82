"""Reads of approval workflows and tasks."""

from __future__ import annotations

from typing import Any


def open_task_count(user: Any) -> int:
    """How many approval tasks wait for ``user`` (the header's 我的待办 count)."""
    return 0
