"""A reviewer runs the counter from the calendar with the keyboard only, on a 1366×768
screen: the week fits without scrolling sideways, a phone caller is booked from the day."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from procedures.reservations.models import Booking
from procedures.reservations.schedule import TOKYO
from tests.factories import PASSWORD
from tests.procedures.reservation_fixtures import make_resource

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_reviewer_books_a_caller_from_the_calendar_with_the_keyboard(
    page, live_server, reviewer, city, screenshot
):
    resource = make_resource(city, capacity=4, closed_on_holidays=False)
    day = (timezone.now().astimezone(TOKYO) + timedelta(days=3)).date()
    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=login]", reviewer.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{live_server.url}/admin/")

    calendar = f"/admin/procedures/resource/{resource.pk}/calendar/?date={day}&view=week"
    page.goto(live_server.url + calendar)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator(".rsv-week").bounding_box()["width"] <= 1366
    screenshot(page, "reservations-calendar-week")

    page.keyboard.press("d")  # the day view
    page.wait_for_url("**view=day**")
    page.keyboard.press("ArrowDown")  # focus the first slot's "book" link
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "電話予約を受け付ける"
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/**")
    # The name field takes the focus (autofocus); wait for it rather than race the page load.
    page.wait_for_function(
        "document.activeElement && document.activeElement.name === 'contact_name'"
    )
    page.keyboard.type("山田花子")
    page.keyboard.press("Tab")
    page.keyboard.type("090-1111-2222")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+a")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    page.wait_for_url("**/calendar/**")
    page.get_by_text("山田花子").first.wait_for()
    assert "残り 2 / 4" in page.content()
    screenshot(page, "reservations-calendar-day")
    with scopes_disabled():
        booking = Booking.objects.get()
    assert (booking.contact_name, booking.party_size, booking.source) == ("山田花子", 2, "phone")
