"""python manage.py chat KEY --municipality SLUG — try a procedure in the terminal.

Runs the same runtime as LINE (procedures.runtime.resident_input), so what works here
works in the chat. Type answers as a resident would; a number picks a listed choice.
Special lines: `:date 2026-12-01`, `:time 14:30`, `:loc 35.68,139.76 [address]`,
`:photo` (a placeholder photo), `:quit`.
"""

import sys
import uuid

from django.core.management.base import BaseCommand, CommandError

from govtech.models import Municipality
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.residents.services import resident_for_handle
from procedures.runtime import resident_input, start_postback
from procedures.selectors import procedure_by_key


def prompt_lines(prompt: engine.Prompt) -> tuple[list[str], list[engine.Choice]]:
    """A prompt as terminal text, and the choices a number can pick."""
    if isinstance(prompt, engine.ConfirmationPrompt):
        lines = [f"== {prompt.title} =="]
        lines += [f"  {row.label}: {row.value}" for row in prompt.rows]
        if prompt.fee is not None:
            lines.append(f"  手数料 / fee: {prompt.fee:,}円")
        return lines, [prompt.submit, prompt.edit, *prompt.choices]
    if isinstance(prompt, engine.CardsPrompt):
        return _card_lines(prompt)
    lines = [prompt.text]
    if isinstance(prompt, engine.DatePickerPrompt):
        lines.append(f"  (:{'date' if prompt.mode == 'date' else prompt.mode} で入力 / picker)")
    if isinstance(prompt, engine.LocationRequestPrompt):
        lines.append("  (:loc 緯度,経度 [住所] で位置情報を送信)")
    if isinstance(prompt, engine.ImageRequestPrompt):
        lines.append("  (:photo で写真を送信)")
    return lines, list(getattr(prompt, "choices", ()))


def _card_lines(prompt: engine.CardsPrompt) -> tuple[list[str], list[engine.Choice]]:
    """Cards one under another, each with its buttons, numbered in one list (a number
    picks one): the same labels on several cards stay told apart."""
    lines, choices = [prompt.text], []
    for card in prompt.cards:
        lines += ["", f"== {card.title} ==", *(f"  {line}" for line in card.lines)]
        for button in card.buttons:
            choices.append(button)
            lines.append(f"  [{len(choices)}] {button.label}")
    for choice in prompt.choices:
        choices.append(choice)
        lines.append(f"  [{len(choices)}] {choice.label}")
    return lines, choices


def parse_line(line: str, choices: list[engine.Choice], picker: str | None) -> engine.Input:
    """Turn what was typed into an engine input."""
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return engine.PostbackInput(choices[int(text) - 1].data)
    if text.startswith((":date ", ":time ", ":datetime ")) and picker:
        mode, value = text[1:].split(" ", 1)
        return engine.PostbackInput(picker, {mode: value.strip()})
    if text.startswith(":loc "):
        coords, _, address = text[5:].partition(" ")
        lat, _, lng = coords.partition(",")
        try:
            return engine.LocationInput(float(lat), float(lng), address=address)
        except ValueError:
            return engine.TextInput(text)
    if text == ":photo":
        return engine.ImageInput(ref=f"terminal-{uuid.uuid4()}")
    return engine.TextInput(text)


class Command(BaseCommand):
    help = "Chat with a published procedure in the terminal, as a resident would in LINE."

    def add_arguments(self, parser):
        parser.add_argument("key")
        parser.add_argument("--municipality", required=True)
        parser.add_argument("--lang", default="ja", choices=["ja", "en"])
        parser.add_argument("--resident", default="", help="resident name (default: a new one)")

    def handle(self, *args, key, municipality, lang, resident, **options):
        target = Municipality.objects.filter(slug=municipality).first()
        if target is None:
            raise CommandError(f"No municipality with the slug {municipality!r}.")
        with tenant_scope(target):
            procedure = procedure_by_key(key=key)
        if procedure is None or procedure.live_version is None:
            raise CommandError(f"{key} is not a published procedure of {municipality}.")
        # A resident without a channel identity, known by its handle (found again next time).
        handle = f"terminal:{resident or uuid.uuid4().hex[:8]}"
        person = resident_for_handle(municipality=target, handle=handle, language=lang)
        reply = resident_input(
            municipality=target,
            resident=person,
            inp=engine.PostbackInput(start_postback(key)),
            lang=lang,
            channel="terminal",
        )
        self._converse(target, person, lang, reply)

    def _converse(self, municipality, person, lang, reply):
        while True:
            choices, picker = self._show(reply.prompts)
            if reply.submission is not None or reply.conversation is None:
                return
            if reply.conversation.status not in ("active", "confirming", "editing"):
                return
            self.stdout.write("> ", ending="")
            self.stdout.flush()
            line = sys.stdin.readline()
            if not line or line.strip() == ":quit":
                return
            inp = parse_line(line, choices, picker)
            reply = resident_input(
                municipality=municipality, resident=person, inp=inp, lang=lang, channel="terminal"
            )

    def _show(self, prompts):
        choices: list[engine.Choice] = []
        picker = None
        for prompt in prompts:
            lines, choices = prompt_lines(prompt)
            if isinstance(prompt, engine.DatePickerPrompt):
                picker = prompt.data
            self.stdout.write("\n".join(lines))
            if isinstance(prompt, engine.CardsPrompt):
                continue  # numbered under each card already
            for number, choice in enumerate(choices, start=1):
                self.stdout.write(f"  [{number}] {choice.label}")
        return choices, picker
