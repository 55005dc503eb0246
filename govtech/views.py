"""Small project-wide views."""

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on every page; send them to the static icon.

    Without it each ask was a 404, or, for staff who must still set up MFA, a redirect
    into the set-up page. The static URL is looked up per request: in production it is
    the hashed name collectstatic wrote, which does not exist when URLs are imported.
    """
    return HttpResponsePermanentRedirect(static("console/favicon.svg"))
