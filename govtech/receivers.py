"""Login events go to the audit log from day one.

Django's auth signals are the one hook every login path (allauth, admin, API session)
shares; the receivers only call the audit service.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from govtech.access import staff_context_for
from govtech.services import audit_log


def _municipality_of(user):
    return staff_context_for(user).municipality if user is not None else None


@receiver(user_logged_in, dispatch_uid="govtech.audit.login")
def audit_login(sender, request, user, **kwargs):
    audit_log(
        user, "govtech.auth.login", user, municipality=_municipality_of(user), request=request
    )


@receiver(user_logged_out, dispatch_uid="govtech.audit.logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_log(
            user, "govtech.auth.logout", user, municipality=_municipality_of(user), request=request
        )


@receiver(user_login_failed, dispatch_uid="govtech.audit.login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # Never store the password; the identifier tried is what security staff need.
    tried = str(credentials.get("email") or credentials.get("username") or "")[:254]
    audit_log(None, "govtech.auth.login_failed", None, {"identifier": tried}, request=request)
