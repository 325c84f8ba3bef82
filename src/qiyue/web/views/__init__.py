"""The browser UI's views: thin, they parse input, call actions and queries, render."""

from qiyue.web.views.account import account, language, token_create, token_revoke
from qiyue.web.views.auth import login_view, logout_view, password_change
from qiyue.web.views.contracts import (
    contract_autocomplete,
    contract_create,
    contract_detail,
    contract_edit,
    contract_list,
    contract_share,
    contract_transition,
    contract_unshare,
)
from qiyue.web.views.home import home
from qiyue.web.views.parties import (
    party_add_contact,
    party_autocomplete,
    party_create,
    party_detail,
    party_edit,
    party_list,
)

__all__ = [
    "account",
    "contract_autocomplete",
    "contract_create",
    "contract_detail",
    "contract_edit",
    "contract_list",
    "contract_share",
    "contract_transition",
    "contract_unshare",
    "home",
    "language",
    "login_view",
    "logout_view",
    "party_add_contact",
    "party_autocomplete",
    "party_create",
    "party_detail",
    "party_edit",
    "party_list",
    "password_change",
    "token_create",
    "token_revoke",
]
