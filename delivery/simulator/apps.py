from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SimulatorConfig(AppConfig):
    """The LINE simulator, installed only where ``settings.SIMULATOR_ENABLED`` (never in
    production): its tables exist only where it is installed. docs/decisions/0012."""

    name = "delivery.simulator"
    label = "simulator"
    verbose_name = _("LINE simulator")
