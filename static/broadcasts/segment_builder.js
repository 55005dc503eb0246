/* The segment page's visual rule builder: rows of [attribute or behaviour] [operator]
 * [value] combined with all/any, and groups of rows (all/any inside all/any, as deep as
 * the server allows). It reads and writes the rules JSON of the form's textarea
 * (#id_rules), which stays the one thing submitted and validated by the server
 * (delivery/broadcasts/segments.py); the textarea is kept behind an "advanced" toggle.
 * Subjects, operators and every label come from the server (rule_builder.py) in
 * #rule-builder-config. Writing the textarea fires its "input" event, which rules.js
 * answers with the live count. Plain JS, no dependencies.
 *
 * State: a group is {kind: "group", match, items}; an item is a group or a row
 * {kind: "row", subject, op, value}. Every node on the page carries data-path, the
 * indexes from the top group ("" is the top group itself, "1.0" the first item of the
 * second item).
 */
(() => {
  "use strict";
  const root = document.getElementById("segment-builder");
  const input = document.getElementById("id_rules");
  const configNode = document.getElementById("rule-builder-config");
  if (!root || !input || !configNode) return;

  const config = JSON.parse(configNode.textContent);
  const S = config.strings;
  const MAX_DEPTH = config.max_depth;
  const subjects = new Map(config.subjects.map((subject) => [subject.id, subject]));
  const $ = (selector) => root.querySelector(selector);
  const fieldset = $("#rule-builder");
  const list = $("#rule-rows");
  const match = $("#rule-match");
  const notice = $("#rule-notice");
  const toggle = $("#rules-advanced-toggle");
  const advanced = $("#rules-advanced");
  let state = { kind: "group", match: "all", items: [] };

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
  const pathOf = (text) => (text === "" ? [] : text.split(".").map(Number));
  const label = (path) => path.map((i) => i + 1).join(".");

  function nodeAt(path) {
    return path.reduce((group, index) => group.items[index], state);
  }

  // --- rules JSON ⇄ state ---------------------------------------------------------------

  const FITS = {
    choice: (v) => typeof v === "string",
    choices: (v) => Array.isArray(v) && v.every((item) => typeof item === "string"),
    number: (v) => typeof v === "number",
    text: (v) => typeof v === "string",
    date: (v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v),
    none: (v) => v === undefined,
  };

  function parseRow(condition) {
    const isBehaviour = "behaviour" in condition;
    const subject = subjects.get(isBehaviour ? `behaviour:${condition.behaviour}` : `field:${condition.field}`);
    const keys = isBehaviour ? ["behaviour", "value"] : ["field", "op", "value"];
    if (!subject || Object.keys(condition).some((key) => !keys.includes(key))) return null;
    const op = subject.ops.find((candidate) => candidate.op === (isBehaviour ? "" : condition.op));
    if (!op || !FITS[op.value](condition.value)) return null;
    return { kind: "row", subject: subject.id, op: op.op, value: condition.value };
  }

  /** The group for a rules object, or null when the builder cannot show it faithfully. */
  function parseGroup(rules, depth) {
    if (!rules || typeof rules !== "object" || Array.isArray(rules) || depth > MAX_DEPTH) return null;
    if (!["all", "any"].includes(rules.match) || !Array.isArray(rules.conditions)) return null;
    if (Object.keys(rules).some((key) => key !== "match" && key !== "conditions")) return null;
    const items = [];
    for (const condition of rules.conditions) {
      if (!condition || typeof condition !== "object" || Array.isArray(condition)) return null;
      const item = "match" in condition ? parseGroup(condition, depth + 1) : parseRow(condition);
      if (!item) return null;
      items.push(item);
    }
    return { kind: "group", match: rules.match, items };
  }

  function parse(rules) {
    if (rules === null || (typeof rules === "object" && !Array.isArray(rules) && !Object.keys(rules).length)) {
      return { kind: "group", match: "all", items: [] };
    }
    return parseGroup(rules, 0);
  }

  function complete(kind, value) {
    if (kind === "none") return true;
    if (kind === "choices") return Array.isArray(value) && value.length > 0;
    if (kind === "number") return typeof value === "number" && Number.isFinite(value);
    return typeof value === "string" && value !== "";
  }

  /** The JSON of a group; incomplete rows and groups left empty are left out. */
  function serializeGroup(group) {
    const conditions = [];
    for (const item of group.items) {
      if (item.kind === "group") {
        const nested = serializeGroup(item);
        if (nested) conditions.push(nested);
        continue;
      }
      const subject = subjects.get(item.subject);
      const op = opOf(item);
      if (!complete(op.value, item.value)) continue;
      const condition = subject.group === "behaviour"
        ? { behaviour: subject.behaviour }
        : { field: subject.field, op: item.op };
      if (op.value !== "none") condition.value = item.value;
      conditions.push(condition);
    }
    return conditions.length ? { match: group.match, conditions } : null;
  }

  function write() {
    input.value = JSON.stringify(serializeGroup(state) || {}, null, 2);
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
    return { kind: "row", subject: subject.id, op: op.op, value: defaultValue(subject, op.value) };
  }

  // --- drawing ------------------------------------------------------------------------------

  function options(subject, selected) {
    const known = subject.options.map((option) => option.value);
    const extra = [].concat(selected ?? []).filter((value) => value !== "" && !known.includes(value))
      .map((value) => ({ value, label: fmt(S.unknown_option, { value }) }));
    return [...subject.options, ...extra];
  }

  function subjectSelect(row, n) {
    const groups = [["attribute", S.attributes], ["behaviour", S.behaviours]].map(([group, text]) =>
      el("optgroup", { label: text }, config.subjects.filter((s) => s.group === group).map((s) =>
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
    const text = `${S.value} (${n})`;
    const common = { "data-part": "value", "data-testid": "rule-value", "aria-describedby": hintId };
    if (kind === "none") return null;
    if (kind === "choice") {
      return el("select", { ...common, "aria-label": text },
        options(subject, row.value).map((o) => el("option", { value: o.value, text: o.label, selected: o.value === row.value })));
    }
    if (kind === "choices") {
      const boxes = options(subject, row.value).map((o) => el("label", { class: "rule-choice" }, [
        el("input", { type: "checkbox", value: o.value, "data-testid": "rule-choice", checked: row.value.includes(o.value) }),
        ` ${o.label}`,
      ]));
      return el("fieldset", { ...common, class: "rule-choices" }, [el("legend", { class: "visually-hidden", text }), ...boxes]);
    }
    const type = { number: "number", date: "date", text: "text" }[kind];
    const attrs = { ...common, type, "aria-label": text, value: row.value === undefined ? "" : String(row.value) };
    if (kind === "number") Object.assign(attrs, { step: "1", inputmode: "numeric" });
    return el("input", attrs);
  }

  function rowNode(row, path) {
    const n = label(path);
    const hintId = `rule-hint-${path.join("-")}`;
    const incomplete = !complete(opOf(row).value, row.value);
    const value = valueControl(row, n, hintId);
    if (value && incomplete) value.setAttribute("aria-invalid", "true");
    return el("li", { class: "rule-row", role: "group", "aria-label": fmt(S.condition, { n }), "data-path": path.join("."), "data-testid": "rule-row" }, [
      subjectSelect(row, n),
      opSelect(row, n),
      value,
      el("button", { type: "button", class: "button rule-remove", "data-part": "remove", "data-testid": "rule-remove", "aria-label": fmt(S.remove, { n }), text: S.remove_text }),
      el("span", { class: "rule-hint", id: hintId, text: incomplete ? S.needs_value : "" }),
    ]);
  }

  function groupNode(group, path) {
    const n = label(path);
    const matchId = `rule-group-match-${path.join("-")}`;
    const tools = [
      el("button", { type: "button", class: "button", "data-part": "add", "data-testid": "group-add", "aria-label": fmt(S.add_in_group, { n }), text: `＋ ${S.add}` }),
      path.length < MAX_DEPTH
        ? el("button", { type: "button", class: "button", "data-part": "add-group", "data-testid": "group-add-group", "aria-label": fmt(S.add_group_in_group, { n }), text: `＋ ${S.add_group}` })
        : null,
      el("button", { type: "button", class: "button rule-remove", "data-part": "remove-group", "data-testid": "group-remove", "aria-label": fmt(S.remove_group, { n }), text: S.remove_group_text }),
    ];
    return el("li", { class: "rule-group", role: "group", "aria-label": fmt(S.group, { n }), "data-path": path.join("."), "data-testid": "rule-group" }, [
      el("p", { class: "rule-match" }, [
        el("label", { for: matchId, text: S.group_match }),
        el("select", { id: matchId, "data-part": "match", "data-testid": "group-match" }, [
          el("option", { value: "all", text: S.match_all, selected: group.match === "all" }),
          el("option", { value: "any", text: S.match_any, selected: group.match === "any" }),
        ]),
      ]),
      el("ol", { class: "rule-rows" }, group.items.map((item, i) => itemNode(item, [...path, i]))),
      group.items.length ? null : el("p", { class: "help", text: S.empty_group }),
      el("p", { class: "rule-group-tools" }, tools),
    ]);
  }

  function itemNode(item, path) {
    return item.kind === "group" ? groupNode(item, path) : rowNode(item, path);
  }

  /** The control ``part`` of the node at ``path`` (not of a node nested inside it). */
  function control(path, part) {
    const owner = path.length ? list.querySelector(`[data-path="${path.join(".")}"]`) : fieldset;
    if (!owner) return null;
    const found = [...owner.querySelectorAll(`[data-part="${part}"]`)]
      .find((node) => node.closest("[data-path]") === owner);
    return found && found.matches("fieldset") ? found.querySelector("input") : found;
  }

  function render(focus) {
    match.value = state.match;
    list.replaceChildren(...state.items.map((item, i) => itemNode(item, [i])));
    $("#rule-empty").hidden = state.items.length > 0;
    $("#rule-add-group").hidden = MAX_DEPTH < 1;
    if (focus) control(focus.path, focus.part)?.focus();
  }

  // --- events -------------------------------------------------------------------------------

  function owner(event) {
    const node = event.target.closest("[data-path]");
    return node ? pathOf(node.dataset.path) : null;
  }

  function onChange(event) {
    const path = owner(event);
    const partNode = event.target.closest("[data-part]");
    if (!path || !partNode) return;
    const part = partNode.dataset.part;
    const node = nodeAt(path);
    if (part === "match") {
      node.match = event.target.value;
      write();
      return;
    }
    if (part === "subject") {
      const parent = nodeAt(path.slice(0, -1));
      parent.items[path[path.length - 1]] = newRow(event.target.value);
    } else if (part === "op") {
      const subject = subjects.get(node.subject);
      const before = opOf(node).value;
      node.op = event.target.value;
      const after = opOf(node).value;
      if (before !== after) node.value = defaultValue(subject, after, node.value);
    } else {
      return;
    }
    write();
    render({ path, part });
  }

  function onValue(event) {
    const path = owner(event);
    const valueNode = event.target.closest("[data-part=value]");
    if (!path || !valueNode) return;
    const row = nodeAt(path);
    const kind = opOf(row).value;
    if (kind === "choices") {
      row.value = [...valueNode.querySelectorAll("input:checked")].map((box) => box.value);
    } else if (kind === "number") {
      row.value = valueNode.value === "" || Number.isNaN(valueNode.valueAsNumber) ? "" : valueNode.valueAsNumber;
    } else {
      row.value = valueNode.value;
    }
    const done = complete(kind, row.value);
    if (done) valueNode.removeAttribute("aria-invalid");
    else valueNode.setAttribute("aria-invalid", "true");
    valueNode.closest(".rule-row").querySelector(".rule-hint").textContent = done ? "" : S.needs_value;
    write();
  }

  function onClick(event) {
    const button = event.target.closest("button[data-part]");
    const path = button ? owner(event) : null;
    if (!path) return;
    const part = button.dataset.part;
    if (part === "add" || part === "add-group") {
      const group = nodeAt(path);
      group.items.push(part === "add" ? newRow(config.subjects[0].id) : { kind: "group", match: "any", items: [newRow(config.subjects[0].id)] });
      write();
      const added = [...path, group.items.length - 1];
      render({ path: part === "add" ? added : [...added, 0], part: "subject" });
    } else if (part === "remove" || part === "remove-group") {
      const parentPath = path.slice(0, -1);
      const parent = nodeAt(parentPath);
      const index = path[path.length - 1];
      parent.items.splice(index, 1);
      write();
      if (!parent.items.length) {
        render({ path: parentPath, part: "add" });
        return;
      }
      const next = [...parentPath, Math.min(index, parent.items.length - 1)];
      render({ path: next, part: nodeAt(next).kind === "group" ? "match" : "subject" });
    }
  }

  fieldset.addEventListener("change", onChange);
  fieldset.addEventListener("input", onValue);
  fieldset.addEventListener("click", onClick);

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
