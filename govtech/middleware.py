"""Request middleware: tenant scope for staff, and MFA for those who must have it."""

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from govtech.access import ANONYMOUS, staff_context_for
from govtech.models import Role
from govtech.tenancy import no_tenant_scope, tenant_scope

SESSION_MUNICIPALITY_KEY = "govtech_municipality_id"
# What counts as a second factor (recovery codes only back these up).
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


class TenantScopeMiddleware:
    """Attach ``request.staff`` and run the view inside that staff member's scope.

    Operators (superusers) work unscoped; vendors and people without a municipality
    see no tenant data; anonymous requests get no scope at all, so a view that forgets
    to enter one fails loudly instead of leaking.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            request.staff = ANONYMOUS
            return self.get_response(request)
        request.staff = staff_context_for(
            user, municipality_id=request.session.get(SESSION_MUNICIPALITY_KEY)
        )
        if request.staff.is_operator:
            with scopes_disabled():
                return self.get_response(request)
        if request.staff.municipality is None:
            with no_tenant_scope():
                return self.get_response(request)
        with tenant_scope(request.staff.municipality):
            return self.get_response(request)


def needs_mfa(request: HttpRequest) -> bool:
    """True for a signed-in admin or operator (or anyone, where the city says so) without MFA."""
    staff = request.staff
    if staff is ANONYMOUS:
        return False
    municipality = staff.municipality
    must = staff.is_operator or Role.ADMIN in staff.roles
    must = must or bool(municipality and municipality.mfa_required_for_all and staff.roles)
    if not must:
        return False
    return not Authenticator.objects.filter(user=request.user, type__in=SECOND_FACTORS).exists()


class RequireMFAMiddleware:
    """Send staff who must use MFA (admins, operators) to set it up before anything else.

    Only a page the person navigates to is redirected to the set-up page. What the
    browser fetches on its own (favicon, scripts, prefetches, XHR) is refused with 403
    instead: redirected, each of those loaded the set-up page again behind the person's
    back. Listed after TenantScopeMiddleware, whose ``request.staff`` it reads.
    """

    ALLOWED_PREFIXES = (
        "/accounts/",
        "/static/",
        "/favicon.ico",
        "/healthz",
        "/i18n/",
        "/simulator/",
        "/line/",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.ALLOWED_PREFIXES) or not needs_mfa(request):
            return self.get_response(request)
        if not is_page_navigation(request):
            return HttpResponseForbidden(_("Set up two-factor login first."))
        setup_url = reverse("mfa_activate_totp")
        return HttpResponseRedirect(f"{setup_url}?{urlencode({'next': request.path})}")


def is_page_navigation(request: HttpRequest) -> bool:
    """True for a GET of a page the person asked for, not something the browser fetched."""
    if request.method != "GET":
        return False
    # Browsers say what a request is for; a client that does not (curl, an old browser)
    # is treated as navigating.
    destination = request.headers.get("Sec-Fetch-Dest", "document")
    return destination == "document" and "prefetch" not in request.headers.get("Sec-Purpose", "")
