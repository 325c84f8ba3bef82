"""Background jobs of contracts (Huey; discovered by ``huey.contrib.djhuey``)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from qiyue.contracts.flows import run_lifecycle


# Hourly rather than once at midnight: the job is idempotent, so running it often costs
# little and a missed run (the server was down at midnight) is made up within the hour.
@db_periodic_task(crontab(minute="7"))
def lifecycle_job() -> None:
    """Expire and auto-renew contracts as of the company's date."""
    run_lifecycle()
