"""The embedded default's Celery broker: kombu's filesystem transport, messages whole.

kombu's filesystem transport creates a message's file in the queue folder and then
writes into it. A worker that lists the folder in between takes the empty file, fails
to decode it and stops ("Unrecoverable error: JSONDecodeError", celery/kombu#1551):
the demo's worker died this way under 50 residents at once. Here a message is written
under a name no queue matches and renamed into the queue when complete, so a worker
finds it whole or not at all. ``CELERY_BROKER_TRANSPORT`` names this class.
"""

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        """Put ``payload`` onto ``queue``: written aside, then renamed into place.

        The name is kombu's (milliseconds, a UUID, the queue), so that workers take
        messages in the order kombu would; the partial file starts with a dot and ends
        in ``.part``, which no queue's ``<queue>.msg`` suffix matches.
        """
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
