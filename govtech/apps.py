from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovtechConfig(AppConfig):
    name = "govtech"
    verbose_name = _("Municipalities and staff")

    def ready(self) -> None:
        from govtech import (  # noqa: F401
            checks,  # every model is tenant-owned or named global
            receivers,  # login audit hooks
        )
