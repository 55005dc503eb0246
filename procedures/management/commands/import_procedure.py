"""python manage.py import_procedure FILE --municipality SLUG [--publish]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from govtech.models import Municipality
from govtech.services import ServiceError
from procedures.format import DocumentError, load_document
from procedures.selectors import unbound_steps
from procedures.services import DocumentRejected, procedure_import


class Command(BaseCommand):
    help = "Import a govtech.procedure.v1 JSON file as a draft (and optionally publish it)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--municipality", required=True, help="municipality slug")
        parser.add_argument("--publish", action="store_true", help="publish after importing")
        parser.add_argument("--note", default="", help="change note for the published version")

    def handle(self, *args, file: Path, municipality: str, publish: bool, note: str, **options):
        target = Municipality.objects.filter(slug=municipality).first()
        if target is None:
            raise CommandError(f"No municipality with the slug {municipality!r}.")
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            document = load_document(text)
            procedure = procedure_import(
                actor=None,
                municipality=target,
                document=document,
                publish=publish,
                change_note=note,
            )
        except (DocumentError, DocumentRejected) as exc:
            lines = "\n".join(f"  {error.located()}" for error in exc.errors)
            raise CommandError(f"{file} is not a valid procedure:\n{lines}") from exc
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        state = (
            f"published as version {procedure.live_version.number}" if publish else "saved as draft"
        )
        self.stdout.write(f"{procedure.key}: {state}")
        # Only a draft can get here with them: publishing refuses such steps.
        for problem in unbound_steps(document=procedure.draft, municipality=target):
            self.stderr.write(f"  to fill in before publishing: {problem.located()}")
