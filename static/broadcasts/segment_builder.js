/* The segment page's visual rule builder: rows of [attribute or behaviour] [operator]
 * [value] combined with all/any. It reads and writes the rules JSON of the form's
 * textarea (#id_rules), which stays the one thing submitted and validated by the server
 * (delivery/broadcasts/segments.py); the textarea is kept behind an "advanced" toggle.
 * Subjects, operators and every label come from the server (rule_builder.py) in
 * #rule-builder-config. Writing the textarea fires its "input" event, which rules.js
 * answers with the live count. Plain JS, no dependencies.
 */
(() => {
  "use strict";
  const root = document.getElementById("segment-builder");
  const input = document.getElementById("id_rules");
  const configNode = document.getElementById("rule-builder-config");
  if (!root || !input || !configNode) return;

  const config = JSON.parse(configNode.textContent);
  const S = config.strings;
  const subjects = new Map(config.subjects.map((subject) => [subject.id, subject]));
  const $ = (selector) => root.querySelector(selector);
  const fieldset = $("#rule-builder");
  const list = $("#rule-rows");
  const match = $("#rule-match");
  const notice = $("#rule-notice");
  const toggle = $("#rules-advanced-toggle");
  const advanced = $("#rules-advanced");
  let state = { match: "all", rows: [] };

  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of [].concat(children)) if (child) node.append(child);
    return node;
  }

  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, name) => values[name]);
  const opOf = (row) => subjects.get(row.subject).ops.find((op) => op.op === row.op);

  // --- rules JSON ⇄ rows ----------------------------------------------------------------

  const FITS = {
    choice: (v) => typeof v === "string",
    choices: (v) => Array.isArray(v) && v.every((item) => typeof item === "string"),
    number: (v) => typeof v === "number",
    text: (v) => typeof v === "string",
    date: (v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v),
    none: (v) => v === undefined,
  };

  /** Rows for a rules object, or null when the builder cannot show it faithfully. */
  function parse(rules) {
    if (rules === null || (typeof rules === "object" && !Array.isArray(rules) && !Object.keys(rules).length)) {
      return { match: "all", rows: [] };
    }
    if (typeof rules !== "object" || !["all", "any"].includes(rules.match) || !Array.isArray(rules.conditions)) return null;
    if (Object.keys(rules).some((key) => key !== "match" && key !== "conditions")) return null;
    const rows = [];
    for (const condition of rules.conditions) {
      if (!condition || typeof condition !== "object" || "match" in condition) return null;
      const isBehaviour = "behaviour" in condition;
      const subject = subjects.get(isBehaviour ? `behaviour:${condition.behaviour}` : `field:${condition.field}`);
      const keys = isBehaviour ? ["behaviour", "value"] : ["field", "op", "value"];
      if (!subject || Object.keys(condition).some((key) => !keys.includes(key))) return null;
      const op = subject.ops.find((candidate) => candidate.op === (isBehaviour ? "" : condition.op));
      if (!op || !FITS[op.value](condition.value)) return null;
      rows.push({ subject: subject.id, op: op.op, value: condition.value });
    }
    return { match: rules.match, rows };
  }

  function complete(kind, value) {
    if (kind === "none") return true;
    if (kind === "choices") return Array.isArray(value) && value.length > 0;
    if (kind === "number") return typeof value === "number" && Number.isFinite(value);
    return typeof value === "string" && value !== "";
  }

  function serialize() {
    const conditions = [];
    for (const row of state.rows) {
      const subject = subjects.get(row.subject);
      const op = opOf(row);
      if (!complete(op.value, row.value)) continue;
      const condition = subject.group === "behaviour"
        ? { behaviour: subject.behaviour }
        : { field: subject.field, op: row.op };
      if (op.value !== "none") condition.value = row.value;
      conditions.push(condition);
    }
    return conditions.length ? { match: state.match, conditions } : {};
  }

  function write() {
    input.value = JSON.stringify(serialize(), null, 2);
    input.dispatchEvent(new Event("input")); // rules.js recounts (isTrusted is false)
  }

  // --- defaults when the subject or operator changes ------------------------------------

  function defaultValue(subject, kind, previous) {
    const first = subject.options.length ? subject.options[0].value : "";
    if (kind === "none") return undefined;
    if (kind === "choices") return previous && typeof previous === "string" ? [previous] : [];
    if (kind === "choice") return Array.isArray(previous) && previous.length ? previous[0] : first;
    return "";
  }

  function newRow(subjectId) {
    const subject = subjects.get(subjectId);
    const op = subject.ops[0];
    return { subject: subject.id, op: op.op, value: defaultValue(subject, op.value) };
  }

  // --- drawing ------------------------------------------------------------------------------

  function options(subject, selected) {
    const known = subject.options.map((option) => option.value);
    const extra = [].concat(selected ?? []).filter((value) => value !== "" && !known.includes(value))
      .map((value) => ({ value, label: fmt(S.unknown_option, { value }) }));
    return [...subject.options, ...extra];
  }

  function subjectSelect(row, n) {
    const groups = [["attribute", S.attributes], ["behaviour", S.behaviours]].map(([group, label]) =>
      el("optgroup", { label }, config.subjects.filter((s) => s.group === group).map((s) =>
        el("option", { value: s.id, text: s.label, selected: s.id === row.subject }))));
    return el("select", { "data-part": "subject", "data-testid": "rule-subject", "aria-label": `${S.subject} (${n})` }, groups);
  }

  function opSelect(row, n) {
    const subject = subjects.get(row.subject);
    return el("select", { "data-part": "op", "data-testid": "rule-op", "aria-label": `${S.operator} (${n})` },
      subject.ops.map((op) => el("option", { value: op.op, text: op.label, selected: op.op === row.op })));
  }

  function valueControl(row, n, hintId) {
    const subject = subjects.get(row.subject);
    const kind = opOf(row).value;
    const label = `${S.value} (${n})`;
    const common = { "data-part": "value", "data-testid": "rule-value", "aria-describedby": hintId };
    if (kind === "none") return null;
    if (kind === "choice") {
      return el("select", { ...common, "aria-label": label },
        options(subject, row.value).map((o) => el("option", { value: o.value, text: o.label, selected: o.value === row.value })));
    }
    if (kind === "choices") {
      const boxes = options(subject, row.value).map((o) => el("label", { class: "rule-choice" }, [
        el("input", { type: "checkbox", value: o.value, "data-testid": "rule-choice", checked: row.value.includes(o.value) }),
        ` ${o.label}`,
      ]));
      return el("fieldset", { ...common, class: "rule-choices" }, [el("legend", { class: "visually-hidden", text: label }), ...boxes]);
    }
    const type = { number: "number", date: "date", text: "text" }[kind];
    const attrs = { ...common, type, "aria-label": label, value: row.value === undefined ? "" : String(row.value) };
    if (kind === "number") Object.assign(attrs, { step: "1", inputmode: "numeric" });
    return el("input", attrs);
  }

  function rowNode(row, index) {
    const n = index + 1;
    const hintId = `rule-hint-${n}`;
    const incomplete = !complete(opOf(row).value, row.value);
    const value = valueControl(row, n, hintId);
    if (value && incomplete) value.setAttribute("aria-invalid", "true");
    return el("li", { class: "rule-row", role: "group", "aria-label": fmt(S.condition, { n }), "data-index": index, "data-testid": "rule-row" }, [
      subjectSelect(row, n),
      opSelect(row, n),
      value,
      el("button", { type: "button", class: "button rule-remove", "data-part": "remove", "data-testid": "rule-remove", "aria-label": fmt(S.remove, { n }), text: S.remove_text }),
      el("span", { class: "rule-hint", id: hintId, text: incomplete ? S.needs_value : "" }),
    ]);
  }

  function render(focus) {
    match.value = state.match;
    list.replaceChildren(...state.rows.map(rowNode));
    $("#rule-empty").hidden = state.rows.length > 0;
    if (focus) {
      const target = focus.part === "add" ? $("#rule-add")
        : list.querySelector(`[data-index="${focus.index}"] [data-part="${focus.part}"]`);
      (target && target.matches("fieldset") ? target.querySelector("input") : target)?.focus();
    }
  }

  // --- events -------------------------------------------------------------------------------

  function onChange(event) {
    const rowEl = event.target.closest(".rule-row");
    if (!rowEl) return;
    const index = Number(rowEl.dataset.index);
    const row = state.rows[index];
    const part = event.target.closest("[data-part]").dataset.part;
    if (part === "subject") {
      state.rows[index] = newRow(event.target.value);
    } else if (part === "op") {
      const subject = subjects.get(row.subject);
      const before = opOf(row).value;
      row.op = event.target.value;
      const after = opOf(row).value;
      if (before !== after) row.value = defaultValue(subject, after, row.value);
    } else {
      return;
    }
    write();
    render({ index, part });
  }

  function onValue(event) {
    const rowEl = event.target.closest(".rule-row");
    const control = event.target.closest("[data-part=value]");
    if (!rowEl || !control) return;
    const row = state.rows[Number(rowEl.dataset.index)];
    const kind = opOf(row).value;
    if (kind === "choices") {
      row.value = [...control.querySelectorAll("input:checked")].map((box) => box.value);
    } else if (kind === "number") {
      row.value = control.value === "" || Number.isNaN(control.valueAsNumber) ? "" : control.valueAsNumber;
    } else {
      row.value = control.value;
    }
    const done = complete(kind, row.value);
    if (done) control.removeAttribute("aria-invalid");
    else control.setAttribute("aria-invalid", "true");
    rowEl.querySelector(".rule-hint").textContent = done ? "" : S.needs_value;
    write();
  }

  list.addEventListener("change", onChange);
  list.addEventListener("input", onValue);
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-part=remove]");
    if (!button) return;
    const index = Number(button.closest(".rule-row").dataset.index);
    state.rows.splice(index, 1);
    write();
    render(state.rows.length ? { index: Math.min(index, state.rows.length - 1), part: "subject" } : { part: "add" });
  });
  $("#rule-add").addEventListener("click", () => {
    state.rows.push(newRow(config.subjects[0].id));
    write();
    render({ index: state.rows.length - 1, part: "subject" });
  });
  match.addEventListener("change", () => { state.match = match.value; write(); });

  // The JSON, edited by hand: the builder follows it while it can show it faithfully.
  function readInput() {
    let parsed = null;
    try {
      parsed = parse(JSON.parse(input.value.trim() || "{}"));
    } catch (error) {
      parsed = null;
    }
    fieldset.disabled = !parsed;
    notice.hidden = Boolean(parsed);
    if (parsed) {
      state = parsed;
      render();
    }
    return Boolean(parsed);
  }

  function showAdvanced(open) {
    advanced.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
  }

  input.addEventListener("input", (event) => { if (event.isTrusted) readInput(); });
  toggle.addEventListener("click", () => showAdvanced(advanced.hidden));

  // Move the form's JSON row behind the toggle (it stays inside the form and is submitted).
  advanced.append(input.closest(".form-row") || input);
  match.replaceChildren(
    el("option", { value: "all", text: S.match_all }),
    el("option", { value: "any", text: S.match_any }),
  );
  root.hidden = false;
  const fits = readInput();
  const hasErrors = Boolean(advanced.querySelector(".errorlist"));
  showAdvanced(!fits || hasErrors);
})();
