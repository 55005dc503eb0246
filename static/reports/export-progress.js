// Polls an export job's progress and updates the page; the page refreshes itself
// without JavaScript (a <noscript> meta refresh), so this is only a nicer view of it.
(function () {
  "use strict";
  var root = document.querySelector("[data-poll]");
  if (!root) { return; }
  var url = root.getAttribute("data-poll");
  function field(name) { return root.querySelector('[data-field="' + name + '"]'); }
  function show(state) {
    field("status_label").textContent = state.status_label;
    field("percent").value = state.percent;
    field("percent").textContent = state.percent + "%";
    field("counts").textContent = state.progress + " / " + state.total;
    if (state.finished) {
      // The finished page says more (replaced characters, expiry, errors): load it once.
      window.location.reload();
      return true;
    }
    return false;
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && show(state)) { return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  if (root.getAttribute("data-finished") === "0") {
    window.setTimeout(poll, 1000);
  }
})();
