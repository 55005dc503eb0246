"""What the bench needs in the database: a city, its simulator channel, its procedures.

Idempotent, so ``make bench`` can run twice against the same database. Called in the
orchestrator after ``django.setup()`` with the bench settings.
"""

from dataclasses import dataclass

from django.core.management import call_command
from django.db import connection
from django_scopes import scopes_disabled

from delivery.services import line_channel_bind_simulator
from govtech.models import Municipality
from govtech.services import municipality_create
from procedures.catalog.starters import starter_documents
from procedures.models import Procedure, Submission
from procedures.reservations.seed import demo_resources_ensure
from procedures.services import procedure_create, procedure_publish

CITY_SLUG = "bench-city"
CHANNEL_ID = "2000000777"
KEYWORD = "ベンチ申請"
NAME_ANSWER = "山田 太郎"
CHOICE_ANSWER = "赤"


@dataclass(frozen=True)
class BenchWorld:
    channel_id: str
    channel_secret: str
    bot_user_id: str
    municipality_id: int


def bench_procedure() -> dict:
    """A short application: a typed answer, a tapped choice, the Flex confirmation."""
    return {
        "format": "govtech.procedure.v1",
        "key": "bench-application",
        "kind": "application",
        "title": {"ja": "ベンチマーク用の申請"},
        "languages": ["ja"],
        "triggers": {"keywords": [KEYWORD]},
        "steps": [
            {
                "id": "name",
                "type": "text",
                "label": {"ja": "氏名"},
                "prompt": {"ja": "氏名を入力してください"},
            },
            {
                "id": "color",
                "type": "choice",
                "label": {"ja": "色"},
                "prompt": {"ja": "色を選んでください"},
                "options": [
                    {"value": "red", "label": {"ja": "赤"}},
                    {"value": "blue", "label": {"ja": "青"}},
                ],
            },
            {"id": "confirm", "type": "confirm"},
        ],
        "completion": {"ja": "受付番号 {reference} で受け付けました"},
    }


def world_prepare() -> BenchWorld:
    """Migrate, then create (once) the city, its simulator channel and the procedure."""
    call_command("migrate", interactive=False, verbosity=0)
    with scopes_disabled():
        city = Municipality.objects.filter(slug=CITY_SLUG).first()
        if city is None:
            city = municipality_create(
                actor=None, name="ベンチ市", slug=CITY_SLUG, prefecture="東京都"
            )
        channel = line_channel_bind_simulator(
            actor=None, municipality=city, channel_id=CHANNEL_ID, name="ベンチ市公式LINE"
        )
        if not Procedure.objects.filter(municipality=city, key="bench-application").exists():
            procedure = procedure_create(actor=None, municipality=city, document=bench_procedure())
            procedure_publish(actor=None, procedure=procedure)
        starters_publish(city)
    return BenchWorld(
        channel_id=CHANNEL_ID,
        channel_secret=channel.channel_secret,
        bot_user_id=channel.bot_user_id,
        municipality_id=city.pk,
    )


def starters_publish(city: Municipality) -> None:
    """The starter library published too (once): a city's account offers a dozen
    procedures, and a resident's text is matched against all of their keywords."""
    demo_resources_ensure(municipality=city)  # the starters' reservation steps book these
    published = set(Procedure.objects.filter(municipality=city).values_list("key", flat=True))
    for document in starter_documents():
        if document["key"] not in published:
            procedure = procedure_create(actor=None, municipality=city, document=document)
            procedure_publish(actor=None, procedure=procedure)


def submissions_count(world: BenchWorld) -> int:
    with scopes_disabled():
        return Submission.objects.filter(municipality_id=world.municipality_id).count()


def close_connections() -> None:
    """Before forking children or exiting: no connection shared across processes."""
    connection.close()
