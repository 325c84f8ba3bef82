"""Running the job queue (Huey): the consumer embedded in ``qiyue serve`` for the default
SQLite queue, and what ``qiyue worker`` runs for a Redis one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.module_loading import autodiscover_modules
from huey import SqliteHuey
from huey.consumer import Consumer

log = logging.getLogger(__name__)

EMBEDDED_WORKERS = 2


class EmbeddedConsumer(Consumer):
    """A consumer on threads of the web server's process. It leaves the signal handlers
    to the server (Ctrl-C and SIGTERM stop the server, which stops the consumer)."""

    def _set_signal_handlers(self) -> None:
        pass


def uses_embedded_queue() -> bool:
    """Whether jobs should run inside ``qiyue serve``: the SQLite queue, not immediate."""
    from huey.contrib.djhuey import HUEY

    return isinstance(HUEY, SqliteHuey) and not HUEY.immediate


@contextmanager
def embedded_consumer(workers: int = EMBEDDED_WORKERS) -> Iterator[Consumer | None]:
    """Run a thread consumer for the SQLite queue while the block runs (``None`` and
    nothing started when the queue is Redis or jobs run immediately)."""
    if not uses_embedded_queue():
        yield None
        return
    from huey.contrib.djhuey import HUEY

    autodiscover_modules("tasks")
    consumer = EmbeddedConsumer(HUEY, workers=workers, worker_type="thread")
    consumer.start()
    log.info("background jobs: %d worker threads on %s", workers, HUEY.storage.filename)
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
