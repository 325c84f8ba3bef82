"""Rules are changed by administrators only, validated (bad patterns refused, nothing
saved) and audited; checks are safe against pathological patterns; the risk follows the
contract's fields and text; legal acknowledges high risks; approvals read the outcome."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from qiyue.audit.models import AuditEvent
from qiyue.compliance import actions, queries
from qiyue.compliance.models import ContractRisk, Finding, Rule
from qiyue.compliance.patterns import PatternTimeout, find_pattern
from qiyue.contracts import actions as contract_actions
from qiyue.parties import actions as party_actions
from tests.factories import make_contract, make_party, valid_credit_code

from .conftest import upload_text

pytestmark = pytest.mark.django_db


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# -- the rule editor ------------------------------------------------------------------


def test_only_admins_change_rules(org: Any) -> None:
    for user in (org.sales1, org.legal, org.manager):
        with pytest.raises(actions.NotAllowed):
            actions.create_rule(
                actor=user, data={"name": "x", "kind": "currency", "allowed_currencies": ["CNY"]}
            )
    assert not Rule.objects.exists()


def test_rule_creation_and_change_are_audited(org: Any) -> None:
    rule = actions.create_rule(
        actor=org.admin,
        data={"name": "币种", "kind": "currency", "allowed_currencies": "CNY, usd"},
    )
    assert rule.allowed_currencies == ["CNY", "USD"]
    actions.update_rule(actor=org.admin, rule=rule, data={"severity": "high"}, version=1)
    created, changed = events("compliance.rule_created"), events("compliance.rule_changed")
    assert len(created) == 1 and created[0].actor_id == org.admin.pk
    assert changed[0].data["after"] == {"severity": "high"}


def test_stale_rule_edit_is_refused(org: Any) -> None:
    rule = actions.create_rule(
        actor=org.admin, data={"name": "币种", "kind": "currency", "allowed_currencies": ["CNY"]}
    )
    actions.update_rule(actor=org.admin, rule=rule, data={"name": "新"}, version=1)
    with pytest.raises(actions.StaleEdit):
        actions.update_rule(actor=org.admin, rule=rule, data={"name": "旧"}, version=1)
    rule.refresh_from_db()
    assert rule.name == "新"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "prohibited_term", "pattern": "(unclosed"}, "pattern"),
        ({"kind": "prohibited_term", "pattern": "a*"}, "pattern"),
        ({"kind": "prohibited_term", "pattern": "x" * 301}, "pattern"),
        ({"kind": "prohibited_term"}, "keywords"),
        ({"kind": "nonsense", "keywords": "a"}, "kind"),
        (
            {"kind": "amount_limit", "amount_limit": "-5", "approver_role": "finance"},
            "amount_limit",
        ),
        (
            {"kind": "amount_limit", "amount_limit": "100", "approver_role": "nobody"},
            "approver_role",
        ),
        ({"kind": "payment_days", "max_days": "abc"}, "max_days"),
        ({"kind": "payment_days", "max_days": "99999"}, "max_days"),
        ({"kind": "currency", "allowed_currencies": ["XXX"]}, "allowed_currencies"),
        ({"kind": "required_fields", "required_fields": ["password"]}, "required_fields"),
        ({"kind": "required_clause", "extracted_field": "secret"}, "extracted_field"),
        ({"kind": "currency", "allowed_currencies": ["CNY"], "severity": "fatal"}, "severity"),
        (
            {"kind": "currency", "allowed_currencies": ["CNY"], "contract_type": "999"},
            "contract_type",
        ),
    ],
)
def test_bad_rule_input_gets_a_clear_error_and_saves_nothing(
    org: Any, data: dict[str, Any], field: str
) -> None:
    with translation.override("en"), pytest.raises(actions.ComplianceError) as caught:
        actions.create_rule(actor=org.admin, data={"name": "bad", **data})
    assert field in caught.value.errors
    assert caught.value.errors[field]
    assert not Rule.objects.exists()
    assert not events("compliance.rule_created")


def test_bad_regex_message_is_clear(org: Any) -> None:
    with translation.override("en"), pytest.raises(actions.ComplianceError) as caught:
        actions.create_rule(
            actor=org.admin, data={"name": "x", "kind": "prohibited_term", "pattern": "(a+)+$"}
        )
    assert "too long to run" in caught.value.errors["pattern"]
    with translation.override("en"), pytest.raises(actions.ComplianceError) as caught:
        actions.create_rule(
            actor=org.admin, data={"name": "x", "kind": "prohibited_term", "pattern": "[a-"}
        )
    assert "not a valid regular expression" in caught.value.errors["pattern"]


@pytest.mark.parametrize("pattern", ["a{5000}", "x{1001,}", "(?:b{400}){400}"])
def test_pattern_with_huge_repeat_counts_is_refused_before_compiling(
    org: Any, pattern: str
) -> None:
    # regex unrolls counted repeats on compile: a{99999999} alone takes gigabytes.
    with translation.override("en"), pytest.raises(actions.ComplianceError) as caught:
        actions.create_rule(
            actor=org.admin, data={"name": "x", "kind": "prohibited_term", "pattern": pattern}
        )
    assert "repeat count" in caught.value.errors["pattern"]
    assert not Rule.objects.exists()
    actions.create_rule(
        actor=org.admin,
        data={"name": "ok", "kind": "prohibited_term", "pattern": r"\d{4}年\d{1,2}月"},
    )


# -- pathological patterns ------------------------------------------------------------


def test_pathological_pattern_times_out_instead_of_hanging() -> None:
    started = time.monotonic()
    with pytest.raises(PatternTimeout):
        find_pattern(r"(x+x+)+y", "x" * 5000)
    assert time.monotonic() - started < 5


def test_a_pattern_that_slipped_through_gives_a_finding_not_a_hung_worker(
    org: Any, docs: Path
) -> None:
    # Saved before the editor refused such patterns (e.g. by an import): checks survive.
    rule = Rule.objects.create(
        name="慢", kind="prohibited_term", pattern=r"(x+x+)+y", severity="high"
    )
    contract = make_contract(org.sales1)
    upload_text(org.sales1, contract, "x" * 5000)
    started = time.monotonic()
    actions.check_contract(contract.pk)
    assert time.monotonic() - started < 10
    finding = Finding.objects.get(contract=contract)
    assert (finding.rule_id, finding.code) == (rule.pk, "pattern_timeout")


# -- rechecks -------------------------------------------------------------------------


def test_risk_is_recomputed_when_fields_change(
    org: Any, docs: Path, committed: Any, currency_rule: Rule
) -> None:
    with committed():
        contract = make_contract(org.sales1)
    assert queries.risk_level(contract) == "low"
    with committed():
        contract_actions.update_contract(
            actor=org.sales1, contract=contract, data={"currency": "EUR"}, version=contract.version
        )
    assert queries.risk_level(contract) == "high"
    changed = events("compliance.risk_changed")
    # The first check found nothing: not worth an event; the rise to high is.
    assert [(e.data["before"]["risk_level"], e.data["after"]["risk_level"]) for e in changed] == [
        ("low", "high")
    ]


def test_risk_is_recomputed_when_the_text_changes(org: Any, docs: Path, committed: Any) -> None:
    actions.create_rule(
        actor=org.admin,
        data={
            "name": "禁用语",
            "kind": "prohibited_term",
            "keywords": "无限连带责任",
            "severity": "high",
        },
    )
    with committed():
        contract = make_contract(org.sales1)
    with committed():
        version = upload_text(org.sales1, contract, "甲方承担有限责任。")
    assert queries.risk_level(contract) == "low"
    with committed():
        upload_text(
            org.sales1,
            contract,
            "甲方承担无限连带责任。",
            document=version.document,
        )
    assert queries.risk_level(contract) == "high"


def test_customer_credit_code_change_rechecks_its_contracts(
    org: Any, docs: Path, committed: Any
) -> None:
    actions.create_rule(actor=org.admin, data={"name": "信用代码", "kind": "credit_code"})
    party = make_party(org.sales1)
    with committed():
        contract = make_contract(org.sales1, party=party)
    assert Finding.objects.get(contract=contract).code == "credit_code_missing"
    with committed():
        party_actions.update_party(
            actor=org.sales1,
            party=party,
            data={"credit_code": valid_credit_code()},
            version=party.version,
        )
    assert not Finding.objects.filter(contract=contract).exists()


def test_blocklisting_rechecks_the_customers_contracts(
    org: Any, docs: Path, committed: Any
) -> None:
    actions.create_rule(
        actor=org.admin, data={"name": "黑名单", "kind": "blocklist", "severity": "high"}
    )
    party = make_party(org.sales1, name="坏账科技有限公司")
    with committed():
        contract = make_contract(org.sales1, party=party)
    assert queries.risk_level(contract) == "low"
    with committed():
        entry = actions.add_blocklist_entry(
            actor=org.admin, data={"name": "坏账科技有限公司", "reason": "<script>x</script>"}
        )
    assert queries.risk_level(contract) == "high"
    with committed():
        actions.remove_blocklist_entry(actor=org.admin, entry=entry)
    assert queries.risk_level(contract) == "low"
    assert events("compliance.blocklist_added") and events("compliance.blocklist_removed")


def test_blocklisting_rechecks_all_the_customers_contracts_in_one_job(
    org: Any, docs: Path, django_capture_on_commit_callbacks: Any
) -> None:
    party = make_party(org.sales1, name="坏账科技有限公司")
    contracts = [make_contract(org.sales1, party=party) for _ in range(3)]
    with django_capture_on_commit_callbacks() as jobs:
        actions.add_blocklist_entry(actor=org.admin, data={"name": "坏账科技有限公司"})
    assert len(jobs) == 1
    with django_capture_on_commit_callbacks(execute=True):
        for job in jobs:
            job()
    assert all(queries.risk_level(c) == "low" for c in contracts)  # checked (no rule: low)


def test_blocklist_entry_validation(org: Any) -> None:
    with translation.override("en"), pytest.raises(actions.ComplianceError) as caught:
        actions.add_blocklist_entry(actor=org.admin, data={"credit_code": "12345"})
    assert "credit_code" in caught.value.errors
    with pytest.raises(actions.ComplianceError):
        actions.add_blocklist_entry(actor=org.admin, data={})
    with pytest.raises(actions.NotAllowed):
        actions.add_blocklist_entry(actor=org.sales1, data={"name": "某公司"})


def test_new_rule_rechecks_open_contracts(org: Any, docs: Path, committed: Any) -> None:
    contract = make_contract(org.sales1, currency="EUR")
    with committed():
        actions.create_rule(
            actor=org.admin,
            data={"name": "币种", "kind": "currency", "allowed_currencies": ["CNY"]},
        )
    assert queries.risk_level(contract) == "medium"


# -- acknowledgement and approvals ----------------------------------------------------


def test_high_risk_blocks_approval_until_legal_acknowledges(org: Any, risky: Any) -> None:
    assert queries.approval_blockers(risky)
    risk = actions.acknowledge(actor=org.legal, contract=risky, note="已与客户确认")
    assert risk.acknowledged_by == org.legal and risk.acknowledged_at is not None
    assert queries.approval_blockers(risky) == []
    (event,) = events("compliance.acknowledged")
    assert event.actor_id == org.legal.pk and event.data["note"] == "已与客户确认"


def test_admin_may_acknowledge_too(org: Any, risky: Any) -> None:
    actions.acknowledge(actor=org.admin, contract=risky)
    assert queries.approval_blockers(risky) == []


@pytest.mark.parametrize("persona", ["sales1", "finance", "manager", "head1"])
def test_only_legal_or_admin_may_acknowledge(org: Any, risky: Any, persona: str) -> None:
    with pytest.raises(actions.NotAllowed):
        actions.acknowledge(actor=getattr(org, persona), contract=risky)
    assert queries.approval_blockers(risky)
    assert not events("compliance.acknowledged")


def test_acknowledging_twice_or_without_high_risk_is_refused(org: Any, risky: Any) -> None:
    actions.acknowledge(actor=org.legal, contract=risky)
    with pytest.raises(actions.ComplianceError):
        actions.acknowledge(actor=org.legal, contract=risky)
    calm = make_contract(org.sales1)
    actions.check_contract(calm.pk)
    with pytest.raises(actions.ComplianceError):
        actions.acknowledge(actor=org.legal, contract=calm)


def test_a_new_high_finding_needs_a_new_acknowledgement(org: Any, risky: Any) -> None:
    actions.acknowledge(actor=org.legal, contract=risky)
    actions.check_contract(risky.pk)  # same findings: acknowledgement stays
    assert queries.approval_blockers(risky) == []
    actions.create_rule(
        actor=org.admin,
        data={"name": "续约", "kind": "renewal_notice", "severity": "high"},
    )
    contract_actions.update_contract(
        actor=org.sales1, contract=risky, data={"auto_renew": True}, version=risky.version
    )
    actions.check_contract(risky.pk)
    assert queries.approval_blockers(risky)
    assert ContractRisk.objects.get(contract=risky).acknowledged_at is None


def test_never_checked_contract_has_no_risk_and_no_blockers(org: Any, docs: Path) -> None:
    contract = make_contract(org.sales1)
    assert queries.risk_level(contract) is None
    assert queries.approval_blockers(contract) == []


def test_required_approver_roles_follow_the_amount_rules(org: Any, docs: Path) -> None:
    actions.create_rule(
        actor=org.admin,
        data={
            "name": "大额",
            "kind": "amount_limit",
            "amount_limit": "1000000",
            "approver_role": "finance",
        },
    )
    big = make_contract(org.sales1, amount="1000000.01")
    small = make_contract(org.sales1, amount="999999")
    # Read from the current fields: no check needed first.
    assert queries.required_approver_roles(big) == ["finance"]
    assert queries.required_approver_roles(small) == []


def test_a_slow_check_does_not_overwrite_the_findings_of_a_later_one(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions.create_rule(
        actor=org.admin,
        data={
            "name": "金额必填",
            "kind": "required_fields",
            "required_fields": ["amount"],
            "severity": "high",
        },
        recheck=False,
    )
    contract = make_contract(org.sales1, amount="100.00")
    evaluate = actions.evaluate
    calls: list[int] = []

    def slow_evaluate(*args: Any, **kwargs: Any) -> Any:
        hits = evaluate(*args, **kwargs)  # the contract as it was: an amount, no finding
        if not calls:
            calls.append(1)
            # Meanwhile the amount is removed and that change's check runs and stores.
            type(contract).objects.filter(pk=contract.pk).update(amount=None)
            risk = actions.check_contract(contract.pk)
            assert risk is not None and risk.level == "high"
        return hits

    monkeypatch.setattr(actions, "evaluate", slow_evaluate)
    actions.check_contract(contract.pk)
    assert ContractRisk.objects.get(contract_id=contract.pk).level == "high"
    assert Finding.objects.filter(contract_id=contract.pk, code="fields_missing").exists()
