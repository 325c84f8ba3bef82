"""Helpers for the browser-UI view tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_contract, make_party


@pytest.fixture
def contract(org: Any) -> Any:
    """A draft of sales1's in 销售一部, with an amount so it can be submitted."""
    return make_contract(org.sales1, title="年度软件许可合同", amount="1200000.00")


@pytest.fixture
def party(org: Any) -> Any:
    return make_party(org.sales1, name="上海测试科技有限公司")
