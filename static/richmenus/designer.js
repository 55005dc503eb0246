// The rich menu designer: show only the target field of each area's chosen action, as
// many area rows as the chosen layout has, and fill an existing tab's areas in.
(function () {
  "use strict";
  function showTargets(row) {
    const kind = row.querySelector(".richmenu-kind").value;
    row.querySelectorAll("[data-kind]").forEach(function (field) {
      field.hidden = field.dataset.kind !== kind;
    });
  }
  function showRows(form) {
    const chosen = form.querySelector("input[name=layout]:checked");
    const count = chosen ? Number(chosen.dataset.count) : 6;
    form.querySelectorAll(".richmenu-area-row").forEach(function (row) {
      row.hidden = Number(row.dataset.row) >= count;
    });
  }
  function fill(form) {
    const data = form.querySelector("script[type='application/json']");
    if (!data) return;
    JSON.parse(data.textContent).forEach(function (area, index) {
      const row = form.querySelector(".richmenu-area-row[data-row='" + index + "']");
      if (!row) return;
      row.querySelector(".richmenu-kind").value = area.kind || "";
      const target = row.querySelector("[name='area-" + index + "-value-" + area.kind + "']");
      if (target) target.value = area.value || "";
      row.querySelector("[name='area-" + index + "-label']").value = area.label || "";
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".richmenu-tab-form").forEach(function (form) {
      fill(form);
      form.querySelectorAll(".richmenu-area-row").forEach(function (row) {
        showTargets(row);
        row.querySelector(".richmenu-kind").addEventListener("change", function () { showTargets(row); });
      });
      showRows(form);
      form.querySelectorAll("input[name=layout]").forEach(function (radio) {
        radio.addEventListener("change", function () { showRows(form); });
      });
    });
  });
})();
