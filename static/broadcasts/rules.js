// Live count for the segment rule editor: posts the rules JSON, shows the number of
// matching friends (counted in the database), debounced while typing. No dependencies.
(function () {
  "use strict";
  var box = document.getElementById("segment-count");
  var input = document.getElementById("id_rules");
  if (!box || !input) { return; }
  var count = box.querySelector('[data-field="count"]');
  var error = box.querySelector('[data-field="error"]');
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  var timer = null;
  function refresh() {
    fetch(box.dataset.url, {
      method: "POST", credentials: "same-origin", body: input.value || "{}",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" }
    }).then(function (r) { return r.json(); }).then(function (data) {
      error.hidden = !data.error;
      error.textContent = data.error || "";
      count.textContent = data.error ? "–" : data.count;
    });
  }
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 400); });
  refresh();
})();
