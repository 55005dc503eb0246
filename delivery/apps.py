from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = _("Delivery")

    def ready(self) -> None:
        # Imported here, not at module level: models cannot load before the app registry.
        from delivery import receivers  # noqa: F401  (webhook channel cache coherence)
        from delivery.broadcasts.profile import ProfileAttributes
        from delivery.broadcasts.services import profile_submitted
        from delivery.broadcasts.testers import LineTesterAccounts, SimulatorTrialResidents
        from delivery.disaster.chat import SafetyCheckAnswers, ShelterGuidance
        from delivery.disaster.console import disaster_banner
        from delivery.faq.chat import FaqAnswers
        from delivery.inbox import inbox_health
        from delivery.notices import LineNoticeChannel, LineResidentData
        from delivery.rendering import render_prompts
        from delivery.richmenus import receivers as _menus  # noqa: F401  (disaster, attributes)
        from delivery.simulator_adapter import simulator_enabled
        from delivery.spots.chat import SpotSearch
        from govtech.console import console
        from govtech.health import health_check_register
        from procedures.builder.registry import (
            preview_renderer_register,
            tester_accounts_register,
            trial_resident_provider_register,
        )
        from procedures.residents.registry import (
            input_answerer_register,
            notice_channel_register,
            resident_data_contributor_register,
        )
        from procedures.steptypes import kind_binding_register, submit_effect_register

        health_check_register("webhook_inbox", inbox_health)
        notice_channel_register(LineNoticeChannel())
        resident_data_contributor_register(LineResidentData())
        preview_renderer_register(lambda prompts, lang: render_prompts(prompts, lang=lang))
        if simulator_enabled():  # Try it runs the draft in the simulator; none in production
            trial_resident_provider_register(SimulatorTrialResidents())
        tester_accounts_register(LineTesterAccounts())  # 「LINEで試す」, simulator or not
        submit_effect_register("profile", profile_submitted)
        kind_binding_register(ProfileAttributes())
        input_answerer_register(SafetyCheckAnswers())
        input_answerer_register(ShelterGuidance())
        input_answerer_register(SpotSearch())
        input_answerer_register(FaqAnswers())
        console.page_context_register(disaster_banner)
