// Draws the staff map of templates/incidents/map.html with the vendored Leaflet and
// leaflet.markercluster: one marker per report, coloured by status, clustered; a click
// opens the report's case page. The page is complete without it (the list beside it).
(function () {
  "use strict";
  if (typeof L === "undefined" || !L.markerClusterGroup) return; // the list stays

  function marker(row, data, config) {
    var f = {};
    data.fields.forEach(function (name, i) { f[name] = row[i]; });
    var status = data.statuses[f.status];
    var category = f.category >= 0 ? data.categories[f.category] : "";
    var title = [f.ref, category, status[1], f.date].filter(Boolean).join(" · ");
    if (f.dup) title += " · " + config.labels.duplicate;
    var icon = L.divIcon({
      className: "rm-marker rm-status-" + status[0] + (f.dup ? " rm-marker-duplicate" : ""),
      iconSize: [16, 16],
      html: "",
    });
    var m = L.marker([f.lat, f.lon], { icon: icon, title: title, alt: title, keyboard: true });
    m.on("add", function () {
      var element = m.getElement();
      if (element) {
        element.setAttribute("data-reference", f.ref);
        element.setAttribute("data-status", status[0]);
      }
    });
    m.on("click", function () {
      window.location.href = config.caseUrl.replace("/0/", "/" + f.id + "/");
    });
    return m;
  }

  function draw(canvas) {
    var config = JSON.parse(document.getElementById(canvas.getAttribute("data-report-map")).textContent);
    canvas.hidden = false;
    var map = L.map(canvas);
    L.tileLayer(config.tiles.url, {
      attribution: config.tiles.attribution,
      maxZoom: config.tiles.maxZoom,
    }).addTo(map);
    map.setView([35.68, 139.76], 5); // until the markers arrive
    fetch(config.markers, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var clusters = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 50 });
        var markers = data.reports.map(function (row) { return marker(row, data, config); });
        clusters.addLayers(markers);
        map.addLayer(clusters);
        if (data.truncated) {
          var note = document.querySelector("[data-testid=map-truncated]");
          note.textContent = config.labels.truncated;
          note.hidden = false;
        }
        if (markers.length) {
          map.fitBounds(clusters.getBounds(), {
            padding: [24, 24],
            maxZoom: Math.min(17, config.tiles.maxZoom),
            animate: false,
          });
        }
        canvas.setAttribute("data-markers", String(markers.length)); // drawn and fitted
      });
  }

  function start() {
    document.querySelectorAll("[data-report-map]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
