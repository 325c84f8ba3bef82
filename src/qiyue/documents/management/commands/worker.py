"""``qiyue worker``: run background jobs (text extraction) — needed with
``QIYUE_QUEUE_URL=redis://…``; with the default SQLite queue ``qiyue serve`` runs them
itself. Takes Huey's consumer options (``--workers N``, ``--worker-type thread|process``…)."""

from __future__ import annotations

from huey.contrib.djhuey.management.commands.run_huey import Command as RunHuey


class Command(RunHuey):
    help = "Run the background job worker (Huey consumer) for Qiyue."
