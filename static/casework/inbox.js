// The inbox's bulk form: "tick all", and a status offered only when the workflow allows it
// for every ticked submission (the server checks again and lists what it refused).
(function () {
  "use strict";
  const form = document.getElementById("cw-bulk");
  if (!form) return;
  const boxes = () => Array.from(form.querySelectorAll('input[name="ids"]'));
  const all = document.getElementById("cw-all");
  const select = document.getElementById("cw-bulk-to");

  function allowed() {
    const ticked = boxes().filter((box) => box.checked);
    if (!ticked.length) return null;
    return ticked
      .map((box) => new Set((box.closest("tr").dataset.next || "").split(" ").filter(Boolean)))
      .reduce((a, b) => new Set([...a].filter((status) => b.has(status))));
  }

  function refresh() {
    const statuses = allowed();
    for (const option of select.options) {
      if (!option.value) continue;
      option.disabled = statuses !== null && !statuses.has(option.value);
    }
    if (select.selectedOptions[0] && select.selectedOptions[0].disabled) select.value = "";
  }

  if (all) {
    all.addEventListener("change", () => {
      boxes().forEach((box) => { box.checked = all.checked; });
      refresh();
    });
  }
  form.addEventListener("change", refresh);
  // Enter in the reason box would press the form's first button (assign to me): the
  // reviewer chooses the action with its own button instead.
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches('input[type="text"]')) event.preventDefault();
  });
})();
