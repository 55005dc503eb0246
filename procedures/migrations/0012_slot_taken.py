"""Each slot counts its taken places (decision 0017): the counter is added, then set from
the rows it counts — places of bookings that hold one, plus those of pending waitlist
offers (held until decided, whatever their expiry: beat releases them)."""

from django.db import migrations, models
from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

HOLDING = ("confirmed", "attended", "no_show")


def count_taken_places(apps, schema_editor):
    Slot = apps.get_model("procedures", "Slot")
    Booking = apps.get_model("procedures", "Booking")
    WaitlistOffer = apps.get_model("procedures", "WaitlistOffer")
    bookings = (
        Booking.objects.filter(slot=OuterRef("pk"), status__in=HOLDING)
        .order_by()
        .values("slot")
        .annotate(total=Sum("places"))
        .values("total")
    )
    per_offer = Case(
        When(slot__resource__capacity_unit="people", then=F("entry__party_size")),
        default=Value(1),
        output_field=IntegerField(),
    )
    offers = (
        WaitlistOffer.objects.filter(slot=OuterRef("pk"), status="pending")
        .order_by()
        .values("slot")
        .annotate(total=Sum(per_offer))
        .values("total")
    )
    Slot.objects.update(taken=Coalesce(Subquery(bookings), 0) + Coalesce(Subquery(offers), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0011_report_newest_first"),
    ]

    operations = [
        migrations.AddField(
            model_name="slot",
            name="taken",
            field=models.PositiveIntegerField(default=0, verbose_name="places taken"),
        ),
        migrations.RunPython(count_taken_places, migrations.RunPython.noop),
    ]
