"""``{% approval_panel contract %}``: the approval timeline and the viewer's open tasks
on the contract page (the contract view itself stays the contracts area's)."""

from __future__ import annotations

from typing import Any

from django import template

from qiyue.approvals import queries
from qiyue.approvals.models import InstanceState, TaskState

register = template.Library()


@register.inclusion_tag("web/approvals/_panel.html", takes_context=True)
def approval_panel(context: Any, contract: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    instances = queries.instances_of(contract)
    my_tasks: list[Any] = []
    can_withdraw = False
    if user is not None and user.is_authenticated:
        for inst in instances:
            if inst.state != InstanceState.PENDING:
                continue
            can_withdraw = queries.may_withdraw(user, inst, contract)
            for step in inst.steps.all():
                my_tasks.extend(
                    t
                    for t in step.tasks.all()
                    if t.assignee_id == user.pk and t.state == TaskState.OPEN
                )
    blocker = None
    if contract.state in {"approved", "signing"}:
        blocker = queries.signing_blocker(contract, instances=instances)
    return {
        "c": contract,
        "instances": instances,
        "my_tasks": my_tasks,
        "can_withdraw": can_withdraw,
        "blocker": blocker,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
