"""API of the obligations area."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["obligations"])
