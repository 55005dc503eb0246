"""allauth glue: staff accounts are created by admins, never by public signup.

Two things allauth does not do the way a municipal console needs:

- A password login a moment ago is as good as a re-authentication: a new admin who must
  set up two-factor login is not asked for the password again right after typing it.
- The TOTP activation page keeps one secret until it is confirmed. allauth draws a new
  secret on every GET of the page, so any second GET (a reload, a prefetch, a redirect of
  the favicon) made the QR code on screen stale and every code "incorrect".
"""

import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from allauth.mfa.totp.forms import ActivateTOTPForm
from allauth.mfa.totp.internal import auth as totp_auth
from django import forms


class StaffAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        return not _logged_in_recently(context.request)


def _logged_in_recently(request) -> bool:
    """True when this session's last login or re-authentication is within the timeout."""
    if request is None or not request.user.is_authenticated:
        return False
    records = get_authentication_records(request, request.user)
    if not records:
        return False
    return time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT


class StableSecretActivateTOTPForm(ActivateTOTPForm):
    """allauth's activation form, drawing the secret once per activation, not per GET.

    The secret stays in the signed-in user's server-side session until activation
    succeeds (allauth clears it then); it never leaves that session except on the page.
    """

    def __init__(self, *args, **kwargs) -> None:
        # allauth's __init__ regenerates the secret whenever the form is unbound.
        self.user = kwargs.pop("user")
        forms.Form.__init__(self, *args, **kwargs)
        self.secret = totp_auth.get_totp_secret(regenerate=False)
