"""``qiyue serve``: the web server (waitress), for one machine or behind a proxy."""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Qiyue over HTTP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, **opts: Any) -> None:
        from waitress import serve

        from qiyue.documents.queue import embedded_consumer
        from qiyue.search.analysis import load_dictionary
        from qiyue.wsgi import application

        # The Chinese word dictionary loads beside the server starting up, so the first
        # search after a restart does not wait a second for it.
        threading.Thread(target=load_dictionary, name="qiyue-dictionary", daemon=True).start()
        self.stdout.write(f"Qiyue is serving on http://{opts['host']}:{opts['port']}/")
        # Background jobs run in this process with the SQLite queue (qiyue worker: Redis).
        with embedded_consumer():
            serve(application, host=opts["host"], port=opts["port"], threads=opts["threads"])
