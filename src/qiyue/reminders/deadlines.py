"""The contract deadlines reminders are about: expiry of active contracts, the
cancel-by date of auto-renewing ones, and the one-off reminders users set."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from qiyue.contracts.models import Contract, ContractState, cancel_by
from qiyue.reminders.models import DeadlineKind, OneOffReminder
from qiyue.reminders.sources import Deadline


def contract_deadlines(start: date, end: date, owner_id: int | None = None) -> Iterator[Deadline]:
    """Deadlines of contracts due in ``[start, end]`` (only ``owner_id``'s when given)."""
    contracts = Contract.objects.filter(state=ContractState.ACTIVE, expiry_date__gte=start)
    one_offs = OneOffReminder.objects.filter(day__gte=start, day__lte=end)
    if owner_id is not None:
        contracts = contracts.filter(owner_id=owner_id)
        one_offs = one_offs.filter(user_id=owner_id)
    rows = contracts.values_list(
        "pk", "number", "title", "owner_id", "expiry_date", "auto_renew", "notice_period_days"
    )
    for pk, number, title, owner, expiry, auto_renew, notice in rows.iterator():
        if expiry is None:
            continue
        url = f"/contracts/{pk}/"
        if expiry <= end:
            yield Deadline(
                kind=DeadlineKind.CONTRACT_EXPIRY,
                due=expiry,
                contract_id=pk,
                object_key=f"contract:{pk}",
                owner_id=owner,
                title=format_lazy(
                    _("Contract {number} {title} expires"), number=number, title=title
                ),
                url=url,
            )
        if auto_renew:
            last_day = cancel_by(expiry, notice)
            if start <= last_day <= end:
                yield Deadline(
                    kind=DeadlineKind.CONTRACT_CANCEL_BY,
                    due=last_day,
                    contract_id=pk,
                    object_key=f"contract:{pk}",
                    owner_id=owner,
                    title=format_lazy(
                        _("Last day to give notice before contract {number} {title} renews"),
                        number=number,
                        title=title,
                    ),
                    url=url,
                )
    for pk, contract_id, user_id, day, text in one_offs.values_list(
        "pk", "contract_id", "user_id", "day", "text"
    ).iterator():
        yield Deadline(
            kind=DeadlineKind.ONE_OFF,
            due=day,
            contract_id=contract_id,
            object_key=f"reminder:{pk}",
            owner_id=user_id,
            title=text,
            url=f"/contracts/{contract_id}/",
        )
