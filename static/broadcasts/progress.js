// Polls the broadcast's progress JSON every 2 s while it is sending; no dependencies.
(function () {
  "use strict";
  var box = document.getElementById("broadcast-progress");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  function show(data) {
    bar.value = data.percent;
    Object.keys(data).forEach(function (name) {
      var field = box.querySelector('[data-field="' + name + '"]');
      if (field) { field.textContent = data[name]; }
    });
    if (data.status === "sending" || data.status === "scheduled") { setTimeout(poll, 2000); }
  }
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); }).then(show)
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
