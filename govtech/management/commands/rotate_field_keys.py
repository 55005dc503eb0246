from django.core.management.base import BaseCommand

from govtech.crypto import rotate_encrypted_fields


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the first FIELD_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        count = rotate_encrypted_fields()
        self.stdout.write(f"re-encrypted {count} rows")
