from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "procedures"
    verbose_name = _("Procedures")

    def ready(self) -> None:
        # Imported here, not at module level: models cannot load before the app registry.
        from procedures.reservations.binding import ReservationBinding
        from procedures.steptypes import step_binding_register

        step_binding_register(ReservationBinding())
