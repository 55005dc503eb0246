"""python manage.py export_procedure KEY --municipality SLUG [--draft]  (JSON to stdout)"""

import json

from django.core.management.base import BaseCommand, CommandError

from govtech.models import Municipality
from govtech.tenancy import tenant_scope
from procedures.selectors import procedure_by_key, procedure_export


class Command(BaseCommand):
    help = "Print a procedure as a govtech.procedure.v1 JSON document (the published version)."

    def add_arguments(self, parser):
        parser.add_argument("key")
        parser.add_argument("--municipality", required=True, help="municipality slug")
        parser.add_argument("--draft", action="store_true", help="export the draft instead")

    def handle(self, *args, key: str, municipality: str, draft: bool, **options):
        target = Municipality.objects.filter(slug=municipality).first()
        if target is None:
            raise CommandError(f"No municipality with the slug {municipality!r}.")
        with tenant_scope(target):
            procedure = procedure_by_key(key=key)
            if procedure is None:
                raise CommandError(f"No procedure {key!r} in {municipality}.")
            document = procedure_export(procedure=procedure, draft=draft)
        if document is None:
            raise CommandError(f"{key} is not published; use --draft to export the draft.")
        self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
