"""Creating and reading notifications.

``notify`` runs inside the caller's transaction (the decision or reminder it reports
commits with it) and queues the e-mail for after the commit; a notification with a
``key`` already used is not created again. Texts are rendered in the recipient's
language by the caller passing lazy strings or by :func:`in_language`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from qiyue.accounts.models import User
from qiyue.notifications.models import Notification


@contextmanager
def in_language(user: User) -> Iterator[None]:
    """Render strings in ``user``'s language (their setting, else the site default)."""
    lang = getattr(user, "language", "") or None
    if lang:
        with translation.override(lang):
            yield
    else:
        yield


def notify(
    recipient: User,
    kind: str,
    title: Any,
    body: Any = "",
    *,
    url: str = "",
    contract: Any = None,
    key: str | None = None,
    email: bool = True,
) -> Notification | None:
    """Create a notification for ``recipient`` (None when ``key`` was already used or
    the recipient is inactive). ``title`` and ``body`` may be lazy strings: they are
    rendered in the recipient's language. ``contract`` is a contract or its id (a
    caller holding only the id need not load the row)."""
    if not recipient.is_active:
        return None
    if key and Notification.objects.filter(key=key).exists():
        return None
    with in_language(recipient):
        title_text, body_text = str(title)[:300], str(body)
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                recipient=recipient,
                kind=kind,
                title=title_text,
                body=body_text,
                url=url,
                contract_id=getattr(contract, "pk", contract),
                key=key,
            )
    except IntegrityError:
        if key:  # a concurrent run used the key first
            return None
        raise
    if email and recipient.email:
        from qiyue.notifications.tasks import send_notification_email

        transaction.on_commit(lambda: send_notification_email(note.pk))
    return note


def mark_read(user: Any, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all unread when ``ids`` is None)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def send_email(note_id: int, send: Callable[..., int] | None = None) -> bool:
    """Send the e-mail of one notification once (``emailed_at`` marks it sent)."""
    from django.conf import settings
    from django.core.mail import send_mail

    with transaction.atomic():
        note = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=note_id, emailed_at__isnull=True)
            .first()
        )
        if note is None or not note.recipient.email:
            return False
        link = f"{settings.SITE_URL}{note.url}" if note.url.startswith("/") else note.url
        text = "\n\n".join(part for part in (note.body, link) if part)
        (send or send_mail)(note.title, text, settings.DEFAULT_FROM_EMAIL, [note.recipient.email])
        note.emailed_at = timezone.now()
        note.save(update_fields=["emailed_at"])
    return True
