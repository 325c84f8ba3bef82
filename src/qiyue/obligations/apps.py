from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObligationsConfig(AppConfig):
    name = "qiyue.obligations"
    label = "obligations"
    verbose_name = _("Payments and obligations")
