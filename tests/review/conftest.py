"""Fixtures of the review tests: the shared contract texts, an upload that runs text
extraction and proposals at once, and a contract with the proposals of a Chinese text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qiyue.contracts.models import Contract
from qiyue.documents.actions import upload_document
from qiyue.documents.models import DocumentKind, DocumentVersion
from qiyue.review.models import Proposal, ProposalStatus
from tests.api.conftest import api  # noqa: F401  (the API client fixture)
from tests.factories import make_contract

DATA = Path("/work/shared/data")
ZH = DATA / "zh-contracts" / "zh-02-equipment-sales.txt"
CUAD = DATA / "cuad" / "txt" / "ABILITYINC_06_15_2020-EX-4.25-SERVICES AGREEMENT.txt"


def upload(
    contract: Contract,
    path: Path,
    capture: Any,
    *,
    kind: str = DocumentKind.MAIN,
    document: Any = None,
) -> DocumentVersion:
    """Upload a contract text as its owner; text extraction and proposals run at once."""
    data = path.read_bytes()
    with capture(execute=True):
        version = upload_document(
            actor=contract.owner,
            contract=contract,
            fileobj=SimpleUploadedFile(path.name, data),
            name=path.name,
            kind=kind,
            document=document,
        )
    version.refresh_from_db()
    return version


def pending(contract: Contract) -> dict[str, Proposal]:
    rows = Proposal.objects.filter(contract=contract, status=ProposalStatus.PENDING)
    return {p.field: p for p in rows}


@pytest.fixture
def contract(org: Any) -> Contract:
    return make_contract(org.sales1, amount="1.00")


@pytest.fixture
def proposed(contract: Contract, django_capture_on_commit_callbacks: Any) -> dict[str, Proposal]:
    upload(contract, ZH, django_capture_on_commit_callbacks)
    return pending(contract)
