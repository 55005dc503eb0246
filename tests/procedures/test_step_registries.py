"""A new step type and a new procedure kind are one module each: registered, they run end
to end through ``resident_input`` (and are checked at publish, offered by the builder)
without a line of runtime, format or builder code naming them.

The toy step type ``ticket`` hands out a numbered ticket of one of the municipality's
counters: what the step needs from the municipality (the counters, the next number) is
its binding; at submit the binding takes the number, or refuses when the counter closed
meanwhile. The toy kind ``feedback`` has a submit effect: it writes the resident's
attributes. Both are defined here, at module level, and registered only for the tests
that ask for ``toys`` (and removed afterwards).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from procedures import engine, format
from procedures.engine.steps import StepType, postback, register
from procedures.engine.steps.base import _REGISTRY, InvalidAnswer
from procedures.format import FormatError
from procedures.models import Submission
from procedures.residents.services import resident_attributes_update
from procedures.runtime import HANDLERS, resident_input
from procedures.services import DocumentRejected, procedure_create, procedure_publish
from procedures.steptypes import (
    StepBinding,
    SubmitRefused,
    step_binding_register,
    step_binding_unregister,
    submit_effect_register,
    submit_effect_unregister,
)
from tests.factories import resident as resident_record

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))

# --- the toy step type, its binding and the toy kind (one place) ----------------------------

# What the toy binding reads "from the municipality": counter key -> next number, by slug.
COUNTERS: dict[str, dict[str, int]] = {}
TAKEN: list[tuple[str, int, int]] = []  # (counter, number, submission pk), by attach


class TicketStep(StepType):
    """Pure: shows the next number the runtime supplied and takes it on a tap."""

    name = "ticket"
    schema_fields = {"counter": {"type": "string", "minLength": 1}}
    required_fields = ("counter",)

    def prompt(self, step, ctx):
        number = ctx.availability.get("ticket:" + step["counter"])
        if number is None:
            return [engine.TextPrompt("この窓口は受付を終了しました", ctx.extra_choices)]
        take = engine.Choice(f"{number}番を取る", postback("a", step["id"], str(number)))
        return [engine.TextPrompt(f"次は{number}番です", (take, *ctx.extra_choices))]

    def parse(self, step, inp, ctx):
        if isinstance(inp, engine.PostbackInput) and inp.data.startswith(f"gt|a|{step['id']}|"):
            return int(inp.data.rsplit("|", 1)[1])
        raise InvalidAnswer(_("Please choose from the buttons."))

    def summarize(self, step, value, ctx):
        return f"{value}番"

    def sample(self, step):
        return 1


class TicketBinding(StepBinding):
    step_type = "ticket"

    def availability(self, *, steps, now):
        open_ = _counters()
        return {
            f"ticket:{s['counter']}": open_[s["counter"]] for s in steps if s["counter"] in open_
        }

    def problems(self, *, document, municipality):
        numbers = COUNTERS.get(municipality.slug, {})
        return [
            FormatError(f"steps[{i}].counter", step["id"], "unknown_counter", "no such counter")
            for i, step in enumerate(document.get("steps", []))
            if step.get("type") == "ticket" and step.get("counter") not in numbers
        ]

    def builder_choices(self, *, request, municipality):
        keys = COUNTERS.get(municipality.slug, {})
        choices = [{"key": key, "name": key, "active": True} for key in keys]
        return {"field": "counter", "choices": choices, "url": None, "strings": {}}

    def hold(self, *, conversation, step, answer, lang, now):
        counters = _counters(conversation.municipality.slug)
        if step["counter"] not in counters:
            raise SubmitRefused("窓口が閉まりました", step_id=step["id"])
        counters[step["counter"]] += 1
        return (step["counter"], answer)

    def attach(self, *, held, submission):
        TAKEN.append((*held, submission.pk))


def _counters(slug="demo-city"):
    return COUNTERS.setdefault(slug, {})


def feedback_submitted(submission: Submission) -> None:
    """The toy kind's effect: the resident's answer becomes an attribute."""
    resident_attributes_update(resident=submission.resident, values={"ticket": "yes"})


@pytest.fixture
def toys(monkeypatch):
    monkeypatch.setattr("procedures.engine.steps.base._REGISTRY", dict(_REGISTRY))
    monkeypatch.setattr(format, "_extra_kinds", set(format._extra_kinds))
    register(TicketStep)
    step_binding_register(TicketBinding())
    submit_effect_register("feedback", feedback_submitted)
    COUNTERS.clear()
    TAKEN.clear()
    yield
    submit_effect_unregister("feedback", feedback_submitted)
    step_binding_unregister("ticket")


def ticket_document():
    return {
        "format": "govtech.procedure.v1",
        "key": "ticket",
        "kind": "feedback",
        "title": {"ja": "窓口の整理券"},
        "triggers": {"keywords": ["整理券"]},
        "steps": [
            {"id": "number", "type": "ticket", "counter": "juminhyo", "prompt": {"ja": "整理券"}},
            {"id": "confirm", "type": "confirm"},
        ],
        "completion": {"ja": "受付番号 {reference}"},
    }


def tap(reply, label):
    for prompt in reply.prompts:
        buttons = list(getattr(prompt, "choices", ()))
        if isinstance(prompt, engine.ConfirmationPrompt):
            buttons += [prompt.submit, prompt.edit]
        for choice in buttons:
            if choice.label == label:
                return engine.PostbackInput(choice.data)
    raise AssertionError(f"no button {label!r} in {reply.prompts}")


def texts(reply):
    return " ".join(getattr(p, "text", "") for p in reply.prompts)


@pytest.fixture
def say(city):
    person = resident_record(city, "test:ticket")

    def send(inp):
        inp = engine.TextInput(inp) if isinstance(inp, str) else inp
        return resident_input(municipality=city, resident=person, inp=inp, now=NOW)

    send.person = person
    return send


@pytest.fixture
def published(toys, city, designer):
    _counters()["juminhyo"] = 7
    procedure = procedure_create(actor=designer, municipality=city, document=ticket_document())
    procedure_publish(actor=designer, procedure=procedure)
    return procedure


# --- the tests -------------------------------------------------------------------------------


def test_resident_input_goes_through_one_ordered_list_of_handlers():
    names = [handler.__name__ for handler in HANDLERS]
    assert names == [
        "safety_check",
        "language_choice",
        "casework",
        "bookings_menu",
        "draft_trial",
        "start_or_resume",
        "continue_conversation",
        "shelter_guidance",
        "spot_search",
        "faq",
        "fallback_menu",
    ]


def test_a_registered_step_type_and_kind_run_end_to_end(published, say):
    started = say("整理券")
    assert "次は7番です" in texts(started)

    summary = say(tap(started, "7番を取る"))
    done = say(tap(summary, "送信"))

    assert done.submission is not None
    assert done.submission.answers == {"number": 7}
    assert [("juminhyo", 7, done.submission.pk)] == TAKEN  # held, then attached
    assert _counters()["juminhyo"] == 8
    say.person.refresh_from_db()
    assert say.person.attributes == {"ticket": "yes"}  # the kind's submit effect


def test_a_refused_hold_stores_nothing_and_asks_the_step_again(published, say):
    summary = say(tap(say("整理券"), "7番を取る"))
    del _counters()["juminhyo"]  # the counter closed meanwhile

    retry = say(tap(summary, "送信"))

    assert retry.submission is None
    assert not Submission.objects.with_scope(municipality=published.municipality).exists()
    assert TAKEN == []
    assert "窓口が閉まりました" in texts(retry)
    assert "受付を終了しました" in texts(retry)  # the step asked again
    say.person.refresh_from_db()
    assert say.person.attributes == {}  # no submission, no effect


def test_publishing_checks_the_step_against_the_municipality(toys, city, designer):
    procedure = procedure_create(actor=designer, municipality=city, document=ticket_document())

    with pytest.raises(DocumentRejected) as refused:
        procedure_publish(actor=designer, procedure=procedure)

    assert [e.code for e in refused.value.errors] == ["unknown_counter"]


def test_the_schema_accepts_the_registered_type_and_kind_and_requires_its_field(toys):
    missing = ticket_document()
    del missing["steps"][0]["counter"]

    assert format.validate_document(ticket_document()) == []
    assert [e.code for e in format.validate_document(missing)] == ["missing_field"]


def test_without_registration_the_format_refuses_them():
    codes = [e.code for e in format.validate_document(ticket_document())]

    assert codes.count("not_allowed") == 2  # the kind and the step type


def test_the_builder_offers_what_the_binding_offers(published, client, designer):
    client.force_login(designer)

    url = reverse("admin:procedures_procedure_builder", args=[published.pk])
    config = client.get(url).context["builder_config"]

    assert config["bindings"]["ticket"]["choices"] == [
        {"key": "juminhyo", "name": "juminhyo", "active": True}
    ]
    assert "ticket" in [t["name"] for t in config["types"]]
