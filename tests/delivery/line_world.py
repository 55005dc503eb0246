"""A live LINE world for end-to-end tests: the product's webhook and the simulator on one
live server, talking over real HTTP with the real SDK.

Residents act through the simulator's JSON API (``say``) and tests read what they received
through the transcript API, exactly as an outside script would.
"""

import base64
import json
import urllib.request
from dataclasses import dataclass, field

import pytest

from delivery.services import line_channel_bind_simulator

CHANNEL_ID = "2000000099"


def http_json(method: str, url: str, body: dict | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback live server only
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.status, json.loads(response.read() or b"null")


@dataclass
class SimResident:
    base: str
    channel_id: str
    user_id: str
    seen: int = 0
    inbox: list[dict] = field(default_factory=list)

    def _say(self, **what) -> dict:
        status, body = http_json(
            "POST",
            f"{self.base}/simulator/api/say/",
            {"channel_id": self.channel_id, "user_id": self.user_id, **what},
        )
        assert status == 200, body
        assert body["webhook_status"] == 200, body
        return body

    def follow(self):
        return self._say(follow=True)

    def unfollow(self):
        return self._say(unfollow=True)

    def say(self, text: str):
        return self._say(text=text)

    def postback(self, data: str, params: dict | None = None):
        return self._say(postback={"data": data, **({"params": params} if params else {})})

    def location(self, latitude: float, longitude: float, address: str = ""):
        return self._say(
            location={"latitude": latitude, "longitude": longitude, "address": address}
        )

    def photo(self, content: bytes):
        return self._say(image=base64.b64encode(content).decode())

    def transcript(self) -> list[dict]:
        _, entries = http_json("GET", f"{self.base}/simulator/api/transcript/{self.user_id}/")
        return entries

    def received(self) -> list[dict]:
        """Messages the bot sent since the last call."""
        out = [e for e in self.transcript() if e["direction"] == "out" and e["id"] > self.seen]
        if out:
            self.seen = out[-1]["id"]
        self.inbox = [e["message"] for e in out]
        return self.inbox

    def texts(self) -> str:
        parts = []
        for message in self.inbox:
            parts.append(message.get("text") or message.get("altText") or "")
        return "\n".join(parts)

    def quick_replies(self) -> list[dict]:
        for message in reversed(self.inbox):
            items = (message.get("quickReply") or {}).get("items")
            if items:
                return [item["action"] for item in items]
        return []

    def tap(self, label: str):
        """Tap a quick reply or a Flex button with this label."""
        for action in self.quick_replies() + _flex_actions(self.inbox):
            if action.get("label") == label:
                if action["type"] == "postback":
                    return self.postback(action["data"])
                if action["type"] == "message":
                    return self.say(action["text"])
        raise AssertionError(
            f"no button {label!r}; have {[a.get('label') for a in self.quick_replies()]}"
        )

    def pick(self, label: str, value: dict):
        """Use a datetimepicker quick reply: LINE sends its data with the chosen params."""
        for action in self.quick_replies():
            if action["type"] == "datetimepicker":
                return self.postback(action["data"], value)
        raise AssertionError(f"no picker {label!r}")


def _flex_actions(messages: list[dict]) -> list[dict]:
    found: list[dict] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "button" and "action" in node:
                found.append(node["action"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for message in messages:
        if message.get("type") == "flex":
            walk(message.get("contents"))
    return found


@pytest.fixture
def line_world(live_server, settings, city, eager_celery):
    """demo-city bound to a simulator channel, both served by the live server."""
    settings.SITE_URL = live_server.url
    settings.LINE_API_BASE_URL = f"{live_server.url}/simulator/api/line"
    settings.LINE_API_DATA_BASE_URL = settings.LINE_API_BASE_URL
    # Tasks run eagerly here, inside the request that publishes them: with the Redis inbox
    # one webhook request would store and answer everybody's events. The Redis inbox is
    # tested end to end with a real worker in test_webhook_worker.py.
    settings.LINE_WEBHOOK_INBOX = "database"
    channel = line_channel_bind_simulator(
        actor=None, municipality=city, channel_id=CHANNEL_ID, name="デモ市公式LINE"
    )

    def resident(user_id: str = "U" + "1" * 32) -> SimResident:
        return SimResident(live_server.url, CHANNEL_ID, user_id)

    resident.channel = channel
    return resident
