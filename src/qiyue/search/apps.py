from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "qiyue.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from qiyue.search import checks  # noqa: F401  (registers the deploy check)
