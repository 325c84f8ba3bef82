"""Deploy check: on PostgreSQL the search index holds plain terms; the disk must be
encrypted (see docs/decisions/0003-search-index.md)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Tags, Warning, register
from django.db import connection


@register(Tags.security, deploy=True)
def search_index_needs_disk_encryption(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if connection.vendor != "postgresql":
        return []
    return [
        Warning(
            "The PostgreSQL search index stores the terms of contract documents unencrypted "
            "(documents themselves are encrypted).",
            hint=(
                "Run PostgreSQL on an encrypted disk or volume (LUKS, encrypted cloud volumes) "
                "and encrypt its backups; then silence this check with "
                "SILENCED_SYSTEM_CHECKS = ['qiyue.search.W001']. "
                "See docs/decisions/0003-search-index.md."
            ),
            id="qiyue.search.W001",
        )
    ]
