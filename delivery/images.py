"""Photos residents send: checked, re-encoded, stripped of EXIF (including GPS).

The checks live in ``procedures.images`` since staff's photos (a report's "after" photo)
are checked the same way there, and procedures may not import delivery.
"""

from procedures.images import (  # noqa: F401 - delivery's names for the same checks
    ACCEPTED,
    MAX_BYTES,
    MAX_EDGE,
    MAX_PIXELS,
    CleanImage,
    ImageRejected,
    clean_image,
)
