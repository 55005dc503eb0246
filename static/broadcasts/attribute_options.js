// The options editor of an attribute field: add, remove and reorder rows with buttons.
// Without JavaScript the same form works with its empty rows, "Remove" boxes and order
// numbers; this only hides those and keeps them filled in.
(function () {
  "use strict";
  const box = document.getElementById("attribute-options");
  if (!box) return;
  const strings = JSON.parse(document.getElementById("option-strings").textContent);
  const body = document.getElementById("option-rows");
  const total = box.querySelector('input[name="options-TOTAL_FORMS"]');
  const template = document.getElementById("option-row-template");
  const kindSelect = document.getElementById("id_kind");
  const listKinds = box.dataset.listKinds.split(" ");

  box.classList.add("with-js");
  box.querySelectorAll(".js-only").forEach((el) => { el.hidden = false; });

  function visibleRows() {
    return Array.from(body.querySelectorAll("tr.option-row")).filter((row) => !row.hidden);
  }

  function renumber() {
    visibleRows().forEach((row, index) => {
      const order = row.querySelector('input[name$="-ORDER"]');
      if (order) order.value = index + 1;
      row.querySelector("[data-part=up]").disabled = index === 0;
      row.querySelector("[data-part=down]").disabled = index === visibleRows().length - 1;
    });
  }

  function button(part, text, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "button option-button";
    b.dataset.part = part;
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.title = label;
    return b;
  }

  function describeMove(row) {
    const note = row.querySelector(".option-move");
    const held = parseInt(row.dataset.held || "0", 10);
    const original = row.dataset.original;
    const value = row.querySelector('input[name$="-value"]').value.trim();
    note.hidden = !(held && original && value !== original);
    note.textContent = strings.moves.replace("%(count)s", held);
  }

  function enhance(row) {
    const cell = row.querySelector("td.option-remove");
    const remove = cell.querySelector('input[name$="-DELETE"]');
    const tools = document.createElement("span");
    tools.className = "option-tools";
    const up = button("up", "↑", strings.up);
    const down = button("down", "↓", strings.down);
    const del = button("remove", "×", strings.remove);
    up.addEventListener("click", () => {
      const rows = visibleRows();
      const i = rows.indexOf(row);
      if (i > 0) body.insertBefore(row, rows[i - 1]);
      renumber();
      up.focus();
    });
    down.addEventListener("click", () => {
      const rows = visibleRows();
      const i = rows.indexOf(row);
      if (i < rows.length - 1) body.insertBefore(rows[i + 1], row);
      renumber();
      down.focus();
    });
    del.addEventListener("click", () => {
      const held = parseInt(row.dataset.held || "0", 10);
      if (held && row.dataset.original && !window.confirm(strings.clears.replace("%(count)s", held))) return;
      remove.checked = true;
      row.hidden = true;
      renumber();
      const next = visibleRows()[0];
      (next ? next.querySelector("input[type=text]") : document.getElementById("option-add")).focus();
    });
    tools.append(up, down, del);
    cell.appendChild(tools);
    row.querySelector('input[name$="-value"]').addEventListener("input", () => describeMove(row));
    describeMove(row);
  }

  function addRow() {
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    body.insertAdjacentHTML("beforeend", html);
    total.value = index + 1;
    const row = body.lastElementChild;
    enhance(row);
    renumber();
    row.querySelector('input[name$="-label"]').focus();
  }

  // Blank extra rows are left to the add button; rows with content stay.
  Array.from(body.querySelectorAll("tr.option-row")).forEach((row) => {
    const blank = !row.dataset.original && Array.from(row.querySelectorAll('input[type=text]')).every((i) => !i.value);
    const hasErrors = row.querySelector(".errorlist");
    if (blank && !hasErrors) row.hidden = true;
    if (row.querySelector('input[name$="-DELETE"]').checked) row.hidden = true;
    enhance(row);
  });
  renumber();
  document.getElementById("option-add").addEventListener("click", addRow);

  function showForKind() {
    if (!kindSelect) return;
    box.hidden = !listKinds.includes(kindSelect.value);
  }
  if (kindSelect) {
    kindSelect.addEventListener("change", showForKind);
    showForKind();
  }
})();
