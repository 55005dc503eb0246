"""Fixtures of the delivery tests: ``channel`` (demo-city's LINE account, not bound to
the simulator), and for the LINE simulator's tests a small URLconf they run against.

The URLconf mounts the simulator at ``/simulator/`` (as the project does) plus a webhook
receiver that records what LINE (the simulator) POSTed and can act as an echo bot that
answers with the real SDK. Simulator test modules use it with
``pytest.mark.urls("tests.delivery.conftest")``. Fixtures are named ``sim_*`` so that they
never shadow the product's own delivery fixtures.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    ReplyMessageRequest,
    TextMessage,
)

from delivery.simulator import services
from delivery.simulator.models import SimulatorChannel, SimulatorUser

SIMULATOR_URLS = "tests.delivery.conftest"
LINE_API_PATH = "/simulator/api/line"


class WebhookInbox:
    """What the receiver got; ``echo_host`` makes it reply ``echo: <text>`` via the SDK."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.echo_host: str | None = None
        self.echo_token = ""

    def reset(self) -> None:
        self.__init__()

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1]


INBOX = WebhookInbox()


@contextmanager
def sdk_client(config: Configuration) -> Iterator[ApiClient]:
    with ApiClient(config) as client:
        yield client


def _echo(event: dict[str, Any]) -> None:
    text = (
        event.get("message", {}).get("text")
        or event.get("postback", {}).get("data")
        or event["type"]
    )
    config = Configuration(host=INBOX.echo_host, access_token=INBOX.echo_token)
    with sdk_client(config) as client:
        MessagingApi(client).reply_message(
            ReplyMessageRequest(
                reply_token=event["replyToken"], messages=[TextMessage(text=f"echo: {text}")]
            )
        )


@csrf_exempt
def webhook_receiver(request: HttpRequest) -> HttpResponse:
    body = request.body.decode()
    INBOX.requests.append(
        {
            "body": body,
            "signature": request.headers.get("X-Line-Signature", ""),
            "content_type": request.headers.get("Content-Type", ""),
            "user_agent": request.headers.get("User-Agent", ""),
        }
    )
    if INBOX.echo_host:
        for event in json.loads(body)["events"]:
            if event.get("replyToken"):
                _echo(event)
    return HttpResponse(status=INBOX.status)


urlpatterns = [
    path("simulator/", include("delivery.simulator.urls")),
    path("test-webhook/", webhook_receiver),
]


@pytest.fixture
def sim_webhook_inbox() -> Iterator[WebhookInbox]:
    INBOX.reset()
    yield INBOX
    INBOX.reset()


@pytest.fixture
def sim_channel(db: None) -> SimulatorChannel:
    return services.simulator_channel_create(
        channel_id="2000000001", name="デモ市 公式", municipality="demo-city"
    )


@pytest.fixture
def sim_other_channel(db: None) -> SimulatorChannel:
    """Another municipality's account: it must never see or touch the first one's data."""
    return services.simulator_channel_create(
        channel_id="2000000999", name="よそ町 公式", municipality="other-town"
    )


def make_resident(
    sim_channel: SimulatorChannel, name: str = "山田 花子", **kwargs: Any
) -> SimulatorUser:
    user = services.simulator_user_create(display_name=name, **kwargs)
    services.simulator_friendship_ensure(channel=sim_channel, user=user)
    return user


@pytest.fixture
def sim_resident(sim_channel: SimulatorChannel) -> SimulatorUser:
    return make_resident(sim_channel)


@pytest.fixture
def sim_line_host(live_server: Any) -> str:
    return live_server.url + LINE_API_PATH


@pytest.fixture
def sim_messaging_api(sim_line_host: str) -> Callable[..., Any]:
    """``with sim_messaging_api(channel) as api:`` gives a real SDK client for that channel."""

    @contextmanager
    def make(
        sim_channel: SimulatorChannel, *, blob: bool = False, token: str | None = None
    ) -> Iterator[Any]:
        config = Configuration(
            host=sim_line_host, access_token=token or sim_channel.channel_access_token
        )
        with sdk_client(config) as client:
            yield MessagingApiBlob(client) if blob else MessagingApi(client)

    return make


@pytest.fixture
def sim_webhook(
    live_server: Any, sim_channel: SimulatorChannel, sim_webhook_inbox: WebhookInbox
) -> WebhookInbox:
    """Point ``channel``'s webhook at the recording receiver on the live server."""
    services.simulator_channel_configure(
        channel=sim_channel, webhook_url=f"{live_server.url}/test-webhook/"
    )
    return sim_webhook_inbox


def line_json(response: Any) -> Any:
    """The JSON of an emulated-API answer (they stream, so that connections close)."""
    return json.loads(b"".join(response.streaming_content))


def bearer(sim_channel: SimulatorChannel) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {sim_channel.channel_access_token}"}


# The live LINE world (product webhook + simulator on one live server) for e2e tests.
from tests.delivery.line_world import line_world  # noqa: E402, F401


@pytest.fixture
def channel(city):
    """demo-city's LINE account (not bound to the simulator: nothing is sent through it)."""
    from delivery.services import line_channel_create

    return line_channel_create(
        actor=None,
        municipality=city,
        name="デモ市",
        channel_id="2000000301",
        channel_secret="s" * 32,
        access_token="t" * 40,
    )
