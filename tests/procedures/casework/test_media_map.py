"""Places on the submission page: always as text, on a vendored Leaflet map when tiles are
configured; and the vendored files are the pinned ones, fit for production's static files."""

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.utils import translation

from procedures.casework.media import MapPoint, map_context

ROOT = Path(__file__).resolve().parents[3]
VENDOR = ROOT / "static" / "vendor"
OSM = "https://tile.example.jp/{z}/{x}/{y}.png"

ZAMA = MapPoint(label="場所", address="神奈川県座間市緑ケ丘1-1-1", lat=35.4461, lon=139.4075)


def render(points):
    with translation.override("ja"):
        return render_to_string("casework/_map.html", {"map": map_context(points)})


def config_of(html: str) -> dict:
    tag = '<script id="casework-map-config" type="application/json">'
    found = re.search(re.escape(tag) + "(.*?)</script>", html)
    assert found, "no map configuration in the page"
    return json.loads(found.group(1))


def test_without_tiles_the_address_and_coordinates_show_as_text_and_no_map(settings):
    settings.MAP_TILE_URL = ""
    html = render([ZAMA])
    assert "神奈川県座間市緑ケ丘1-1-1" in html
    assert "35.446100, 139.407500" in html
    assert "緯度・経度" in html
    assert "casework-map-canvas" not in html
    assert "leaflet.js" not in html and "casework-map-config" not in html
    assert "地図で見る" not in html


def test_with_tiles_the_map_is_drawn_from_the_vendored_leaflet(settings):
    settings.MAP_TILE_URL = OSM
    settings.MAP_TILE_ATTRIBUTION = "© テスト地図"
    settings.MAP_TILE_MAX_ZOOM = 18
    html = render([ZAMA])
    assert '<div id="casework-map" class="casework-map-canvas"' in html
    assert 'data-map-config="casework-map-config"' in html
    assert f'src="{settings.STATIC_URL}vendor/leaflet/leaflet.js"' in html
    assert f'src="{settings.STATIC_URL}casework/map.js"' in html
    loaded = re.findall(r'(?:src|href)="([^"]+)"', html.split("<ul")[0])
    assert loaded and all(url.startswith(settings.STATIC_URL) for url in loaded)  # no CDN
    config = config_of(html)
    assert config["tiles"] == {"url": OSM, "attribution": "© テスト地図", "maxZoom": 18}
    assert config["points"] == [{"lat": 35.4461, "lon": 139.4075, "label": ZAMA.address}]
    assert config["icon"]["url"] == f"{settings.STATIC_URL}vendor/leaflet/images/marker-icon.png"
    # The text stays for those without JavaScript, with a link to a map.
    assert "神奈川県座間市緑ケ丘1-1-1" in html and "35.446100, 139.407500" in html
    assert "地図で見る" in html


def test_the_map_link_carries_the_coordinates_and_no_referrer(settings):
    settings.MAP_TILE_URL = OSM
    settings.MAP_LINK_URL = "https://map.example.jp/?lat={lat}&lon={lon}"
    html = render([ZAMA])
    assert 'href="https://map.example.jp/?lat=35.446100&amp;lon=139.407500"' in html
    assert 'rel="noopener noreferrer"' in html
    settings.MAP_LINK_URL = ""
    assert "地図で見る" not in render([ZAMA])


def test_a_typed_address_without_coordinates_draws_no_map(settings):
    settings.MAP_TILE_URL = OSM
    html = render([MapPoint(label="場所", address="座間市役所前")])
    assert "座間市役所前" in html
    assert "（なし）" in html
    assert "casework-map-canvas" not in html and "地図で見る" not in html


def test_what_residents_typed_is_escaped_in_the_text_and_the_map(settings):
    settings.MAP_TILE_URL = OSM
    typed = MapPoint(label="場所", address="<img src=x onerror=alert(1)>", lat=35.0, lon=139.0)
    html = render([typed])
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert config_of(html)["points"][0]["label"] == typed.address


def test_no_place_is_said_in_words(settings):
    settings.MAP_TILE_URL = OSM
    html = render([])
    assert "場所の回答はありません。" in html
    assert "casework-map-canvas" not in html


# --- the vendored libraries ------------------------------------------------------------------


@pytest.mark.parametrize("package", ["leaflet", "leaflet.markercluster"])
def test_vendored_files_are_the_versions_pinned_in_package_json(package):
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"][package]
    lock = json.loads((ROOT / "package-lock.json").read_text())
    locked = lock["packages"][f"node_modules/{package}"]
    name, version, integrity = (VENDOR / package / "VERSION").read_text().split()
    assert (name, version) == (package, pinned) == (package, locked["version"])
    assert integrity == locked["integrity"]


def test_what_the_map_loads_is_vendored():
    for path in [
        "leaflet/leaflet.js",
        "leaflet/leaflet.css",
        "leaflet/LICENSE",
        "leaflet/images/marker-icon.png",
        "leaflet/images/marker-icon-2x.png",
        "leaflet/images/marker-shadow.png",
        "leaflet.markercluster/leaflet.markercluster.js",
        "leaflet.markercluster/MIT-LICENCE.txt",
    ]:
        assert (VENDOR / path).is_file(), path


def test_production_static_files_accept_the_vendored_libraries(settings, tmp_path):
    """Hashed names (production) rewrite the CSS images and the source maps the libraries
    point at; a missing one fails collectstatic, so a release would not start."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    assert "vendor/leaflet/leaflet.js" in manifest
    css = (tmp_path / "static" / manifest["vendor/leaflet/leaflet.css"]).read_text()
    assert manifest["vendor/leaflet/images/layers.png"].split("/", 2)[2] in css
