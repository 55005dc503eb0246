// Preview of a report area (templates/incidents/area_change_form.html): draws the GeoJSON
// typed in the textarea on a small Leaflet map, again whenever it changes. The form works
// without it; the server checks the polygon on save.
(function () {
  "use strict";
  if (typeof L === "undefined") return;
  var canvas = document.getElementById("report-area-map");
  var source = canvas && document.getElementById(canvas.getAttribute("data-source"));
  var config = document.getElementById("report-area-map-config");
  if (!canvas || !source || !config) return;
  config = JSON.parse(config.textContent);
  canvas.hidden = false;
  var map = L.map(canvas, { scrollWheelZoom: false }).setView([35.68, 139.76], 10);
  L.tileLayer(config.tiles.url, {
    attribution: config.tiles.attribution,
    maxZoom: config.tiles.maxZoom,
  }).addTo(map);
  var layer = null;

  function draw() {
    if (layer) map.removeLayer(layer);
    layer = null;
    try {
      layer = L.geoJSON(JSON.parse(source.value)).addTo(map);
      map.fitBounds(layer.getBounds(), { maxZoom: 16 });
    } catch (error) {
      layer = null; // not (yet) valid GeoJSON: nothing to draw
    }
  }
  source.addEventListener("input", draw);
  draw();
})();
