"""The embedded default's broker hands a worker whole messages, never a half-written file."""

import os
from queue import Empty

import pytest
from kombu import Connection

from govtech import broker


@pytest.fixture
def channel(tmp_path):
    queue = tmp_path / "queue"
    queue.mkdir()
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(tmp_path),
    }
    with Connection(
        "filesystem://", transport="govtech.broker:Transport", transport_options=options
    ) as connection:
        yield connection.default_channel


def test_messages_go_through_whole(channel):
    channel._put("engine", {"n": 1})
    channel._put("engine", {"n": 2})
    channel._put("default", {"n": 3})

    taken = [channel._get("engine")["n"], channel._get("engine")["n"]]

    assert sorted(taken) == [1, 2]
    assert channel._get("default") == {"n": 3}
    with pytest.raises(Empty):
        channel._get("engine")


def test_a_message_being_written_is_invisible_to_a_worker(channel, monkeypatch):
    seen_while_writing = []
    rename = os.replace

    def replace(source, target):
        with pytest.raises(Empty):  # kombu's own _put showed the file before its content
            channel._get("engine")
        seen_while_writing.append(os.path.basename(source))
        rename(source, target)

    monkeypatch.setattr(broker.os, "replace", replace)
    channel._put("engine", {"n": 1})

    assert len(seen_while_writing) == 1
    assert channel._get("engine") == {"n": 1}
    assert channel._size("engine") == 0
