"""A resident filling in the web form with Django's test client."""

import io
import re

from django.test import Client
from PIL import Image

from procedures.engine.steps import postback


def png_bytes(size=(40, 30), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


class WebResident:
    """One browser: follows the form's redirects, answers the page it is on."""

    def __init__(self, slug="demo-city", key="every-step", client=None):
        self.client = client or Client()
        self.base = f"/p/{slug}/{key}/"
        self.response = None

    def open(self, url=None):
        self.response = self.client.get(url or self.base, follow=True)
        return self.response

    def start(self):
        self.response = self.client.post(self.base, follow=True)
        return self.response

    @property
    def path(self) -> str:
        return self.response.request["PATH_INFO"]

    @property
    def step_id(self) -> str:
        match = re.search(r"/q/([^/]+)/$", self.path)
        return match.group(1) if match else ""

    @property
    def html(self) -> str:
        return self.response.content.decode()

    @property
    def action(self) -> str:
        """Where the page's forms post (the state's page, as the browser would)."""
        found = re.search(r'<form method="post" action="([^"]+)"', self.html)
        return found.group(1) if found else self.path

    def post(self, data, **extra):
        self.response = self.client.post(self.action, data, follow=True, **extra)
        return self.response

    def answer(self, value="", **fields):
        data = {"answer": value, **fields} if value != "" or not fields else fields
        return self.post(data)

    def choose(self, value):
        """Pick the option whose postback ends with ``value`` (as the radio posts it)."""
        return self.post({"answer": postback("a", self.step_id, value)})

    def tick(self, *values):
        return self.post({"answer": [postback("t", self.step_id, v) for v in values]})

    def back(self):
        return self.post({"command": "back"})

    def options(self) -> list[str]:
        return re.findall(r'name="answer" type="(?:radio|checkbox)" value="([^"]+)"', self.html)

    def pick_first_option(self):
        return self.post({"answer": self.options()[0]})
