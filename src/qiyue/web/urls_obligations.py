"""Pages of the obligations area (included by ``qiyue.web.urls``; names are ``web:...``)."""

from django.urls import URLPattern, path

from qiyue.web.views import obligations as v

urlpatterns: list[URLPattern] = [
    path("contracts/<int:pk>/money/", v.contract_money, name="contract_money"),
    path("contracts/<int:pk>/money/instalments/", v.instalment_add, name="instalment_add"),
    path("contracts/<int:pk>/money/schedule/", v.schedule_add, name="schedule_add"),
    path("contracts/<int:pk>/money/acceptance/", v.acceptance_record, name="acceptance_record"),
    path("contracts/<int:pk>/money/payments/", v.payment_add, name="payment_add"),
    path("contracts/<int:pk>/money/invoices/", v.invoice_add, name="invoice_add"),
    path("contracts/<int:pk>/money/obligations/", v.obligation_add, name="obligation_add"),
    path("instalments/<int:pk>/remove/", v.instalment_remove, name="instalment_remove"),
    path("invoices/<int:pk>/issue/", v.invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/void/", v.invoice_void, name="invoice_void"),
    path("obligations/<int:pk>/complete/", v.obligation_complete, name="obligation_complete"),
    path("contracts/<int:pk>/terminate/", v.contract_terminate, name="contract_terminate"),
    path("contracts/<int:pk>/renew/", v.contract_renew, name="contract_renew"),
    path("contracts/<int:pk>/non-renewal/", v.non_renewal_add, name="non_renewal_add"),
    path("contracts/<int:pk>/amendments/", v.amendment_add, name="amendment_add"),
    path("amendments/<int:pk>/decide/", v.amendment_decide, name="amendment_decide"),
    path("receivables/", v.receivables, name="receivables"),
    path("receivables/summary/", v.receivables_block, name="receivables_block"),
]
