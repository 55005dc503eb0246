// Draws the map of templates/casework/_map.html with the vendored Leaflet. The page is
// complete without it: the places are listed as text beside the map.
(function () {
  "use strict";
  if (typeof L === "undefined") return; // Leaflet did not load: the text list stays

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-map-config"));
    if (!source || canvas.getAttribute("data-drawn")) return;
    var config = JSON.parse(source.textContent);
    canvas.setAttribute("data-drawn", "1");
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
      tooltipAnchor: [16, -28],
      shadowSize: [41, 41],
    });
    var bounds = [];
    config.points.forEach(function (point) {
      // What residents typed is text, never markup: Leaflet would insert a string as HTML.
      var label = document.createElement("span");
      label.textContent = point.label;
      L.marker([point.lat, point.lon], { icon: icon, title: point.label, alt: point.label })
        .bindPopup(label)
        .addTo(map);
      bounds.push([point.lat, point.lon]);
    });
    if (bounds.length === 1) {
      map.setView(bounds[0], Math.min(17, config.tiles.maxZoom));
    } else {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: Math.min(17, config.tiles.maxZoom) });
    }
  }

  function drawAll() {
    document.querySelectorAll("[data-map-config]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
