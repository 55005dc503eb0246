// Draws the public report map of templates/reports/public/_content.html with the vendored
// Leaflet and marker clustering. The page is complete without it: the list and its
// filters are plain HTML. Points are already rounded by the server (a grid of
// public_precision_m metres); popups are built as text, never as HTML.
(function () {
  "use strict";
  if (typeof L === "undefined") return;

  function popup(point, labels) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = point.category;
    var line = document.createElement("div");
    line.textContent = (labels[point.status] || point.status) + " · " + point.date;
    box.appendChild(title);
    box.appendChild(line);
    return box;
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-map-config"));
    if (!source) return;
    var config = JSON.parse(source.textContent);
    if (!config.points.length) return;
    canvas.hidden = false;
    var map = L.map(canvas, { scrollWheelZoom: false });
    L.tileLayer(config.tiles.url, {
      attribution: config.tiles.attribution,
      maxZoom: config.tiles.maxZoom,
    }).addTo(map);
    var icon = L.icon({
      iconUrl: config.icon.url,
      iconRetinaUrl: config.icon.retinaUrl,
      shadowUrl: config.icon.shadowUrl,
      iconSize: [25, 41],
      iconAnchor: [12, 41],
      popupAnchor: [1, -34],
      shadowSize: [41, 41],
    });
    var layer = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup() : L.layerGroup();
    var bounds = [];
    config.points.forEach(function (point) {
      var marker = L.marker([point.lat, point.lon], { icon: icon, title: point.category, alt: point.category });
      marker.bindPopup(popup(point, config.statusLabels));
      layer.addLayer(marker);
      bounds.push([point.lat, point.lon]);
    });
    layer.addTo(map);
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: Math.min(16, config.tiles.maxZoom) });
    canvas.setAttribute("data-drawn", String(config.points.length));
  }

  function drawAll() {
    document.querySelectorAll(".public-map[data-map-config]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
