"""Pages of the review area (included by ``qiyue.web.urls``; names are ``web:...``)."""

from django.urls import URLPattern, path

from qiyue.web.views import review

urlpatterns: list[URLPattern] = [
    path("contracts/<int:pk>/proposals/", review.contract_proposals, name="contract_proposals"),
    path(
        "contracts/<int:pk>/proposals/accept-high/",
        review.proposals_accept_high,
        name="proposals_accept_high",
    ),
    path("review/proposals/<int:pk>/", review.proposal_detail, name="proposal_detail"),
    path("review/proposals/<int:pk>/decide/", review.proposal_decide, name="proposal_decide"),
]
