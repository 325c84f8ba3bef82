"""``qiyue serve``: what it does before it serves (waitress itself is not started here)."""

from __future__ import annotations

import contextlib
import threading
from io import StringIO
from typing import Any

from django.core.management import call_command

from qiyue.search import analysis


def test_serve_loads_the_word_dictionary_beside_starting_the_server(monkeypatch: Any) -> None:
    import waitress

    from qiyue.documents import queue

    analysis._jieba.cache_clear()
    seen: dict[str, Any] = {}

    def fake_serve(app: Any, **kw: Any) -> None:  # waits as the server would run
        for thread in threading.enumerate():
            if thread.name == "qiyue-dictionary":
                thread.join(timeout=30)
        seen.update(kw, loaded=analysis._jieba.cache_info().currsize)

    monkeypatch.setattr(waitress, "serve", fake_serve)
    monkeypatch.setattr(queue, "embedded_consumer", contextlib.nullcontext)
    out = StringIO()
    call_command("serve", "--port", "8123", stdout=out)
    assert seen["port"] == 8123 and seen["threads"] == 8
    assert seen["loaded"] == 1  # jieba is ready for the first search
    assert "serving on http://127.0.0.1:8123/" in out.getvalue()
    assert analysis.cut_for_search("违约金条款")
