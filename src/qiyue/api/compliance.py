"""API of the compliance area."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["compliance"])
