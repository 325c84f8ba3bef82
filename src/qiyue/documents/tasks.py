"""Background jobs of documents (Huey; discovered by ``huey.contrib.djhuey``)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from qiyue.documents import actions


@db_task(retries=2, retry_delay=60)
def extract_version_task(version_id: int, force: bool = False) -> None:
    """Extract and store (encrypted) the text of a document version after its upload."""
    actions.extract_version(version_id, force=force)
