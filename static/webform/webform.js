// The residents' web form works without this file. With it: focus moves to the error
// summary when a page comes back with a problem (GOV.UK's pattern), a second tap on the
// send button is ignored while the first is on its way, and a location question offers
// a map to place a pin on (Leaflet, vendored; the address field stays the way without).
(function () {
  "use strict";

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  }

  function preventDoubleSubmit() {
    document.querySelectorAll("[data-prevent-double-click]").forEach(function (button) {
      var form = button.form;
      if (!form) return;
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("data-sending")) {
          event.preventDefault();
          return;
        }
        form.setAttribute("data-sending", "1");
      });
    });
  }

  function pinMap() {
    var block = document.querySelector("[data-pin-map]");
    var source = document.getElementById("answer-map-config");
    if (!block || !source || typeof L === "undefined") return;
    var config = JSON.parse(source.textContent);
    var latitude = document.querySelector("[data-pin-latitude]");
    var longitude = document.querySelector("[data-pin-longitude]");
    var status = block.querySelector("[data-pin-status]");
    var clear = block.querySelector("[data-pin-clear]");
    block.hidden = false;
    var start = latitude.value && longitude.value ? [parseFloat(latitude.value), parseFloat(longitude.value)] : null;
    var map = L.map(document.getElementById("answer-map"), { scrollWheelZoom: false });
    L.tileLayer(config.url, { attribution: config.attribution, maxZoom: config.maxZoom }).addTo(map);
    map.setView(start || [35.681, 139.767], start ? 17 : 12);
    var marker = null;
    function place(point) {
      latitude.value = point.lat.toFixed(6);
      longitude.value = point.lng.toFixed(6);
      if (marker) marker.setLatLng(point);
      else marker = L.marker(point, { keyboard: false }).addTo(map);
      status.textContent = config.pinned.replace("%(lat)s", latitude.value).replace("%(lon)s", longitude.value);
      clear.hidden = false;
    }
    if (start) place(L.latLng(start[0], start[1]));
    map.on("click", function (event) { place(event.latlng); });
    clear.addEventListener("click", function () {
      latitude.value = "";
      longitude.value = "";
      if (marker) { map.removeLayer(marker); marker = null; }
      status.textContent = config.removed;
      clear.hidden = true;
    });
  }

  function ready() {
    focusErrorSummary();
    preventDoubleSubmit();
    pinMap();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
