/* The no-code builder: edit a procedure's draft, see it as LINE shows it, save it.
 *
 * Plain JS, no build step, no CDN. The page's JSON (#builder-config) holds the draft as
 * an editing state: the portable document, with each step's `when` as a `condition`
 * editor model and the `fee` as a `fee_rule` model. The server converts those to JSON
 * Logic (procedures/builder/conditions.py, fees.py) on save, preview and when the
 * "advanced" toggles switch to raw JSON Logic. Texts come translated from the server
 * (config.strings); everything is put into the DOM with textContent.
 */
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("builder-config").textContent);
  const S = config.strings;
  const LineRender = window.LineRender;
  const { el } = LineRender;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector("#try-form [name=csrfmiddlewaretoken]").value;
  const TYPES = Object.fromEntries(config.types.map((type) => [type.name, type]));
  const LANGUAGE_NAMES = Object.fromEntries(config.languages.map((lang) => [lang.code, lang.name]));

  let state = config.state;
  let revision = config.revision;
  let problems = config.problems;
  let selected = state.steps.length ? 0 : "procedure";
  let dirty = false;
  let edits = 0;
  let previewTimer = null;
  let dragFrom = null;
  // Options whose value still follows their label (new in this session, value untouched).
  const autoValues = new WeakSet();

  // --- small helpers -----------------------------------------------------------------

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, (_, name) => values[name]);
  }

  function languages() {
    return state.languages && state.languages.length ? state.languages : ["ja"];
  }

  function typeLabel(name) {
    return TYPES[name] ? TYPES[name].label : name;
  }

  function role(step) {
    return TYPES[step.type] ? TYPES[step.type].role : "question";
  }

  function localized(texts) {
    if (!texts) return "";
    for (const lang of languages()) if (texts[lang]) return texts[lang];
    return Object.values(texts).find(Boolean) || "";
  }

  function stepName(step) {
    const text = localized(step.label) || localized(step.prompt) || localized(step.message);
    if (text) return text;
    return role(step) === "confirm" ? S.confirm_step : S.untitled; // a confirmation asks nothing
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    return { status: response.status, data };
  }

  function setStatus(text) {
    $("save-status").textContent = text;
  }

  function changed({ list = true } = {}) {
    dirty = true;
    edits += 1;
    setStatus(S.unsaved);
    if (list) renderSteps();
    schedulePreview();
  }

  function uniqueId(base, except) {
    const taken = new Set(state.steps.filter((step) => step !== except).map((step) => step.id));
    let candidate = base;
    for (let n = 2; taken.has(candidate); n += 1) candidate = `${base}_${n}`;
    return candidate;
  }

  // --- option values: romanised or slugified from the label, else option-N ---------------

  const KANA = {
    あ: "a", い: "i", う: "u", え: "e", お: "o", か: "ka", き: "ki", く: "ku", け: "ke", こ: "ko",
    さ: "sa", し: "shi", す: "su", せ: "se", そ: "so", た: "ta", ち: "chi", つ: "tsu", て: "te", と: "to",
    な: "na", に: "ni", ぬ: "nu", ね: "ne", の: "no", は: "ha", ひ: "hi", ふ: "fu", へ: "he", ほ: "ho",
    ま: "ma", み: "mi", む: "mu", め: "me", も: "mo", や: "ya", ゆ: "yu", よ: "yo",
    ら: "ra", り: "ri", る: "ru", れ: "re", ろ: "ro", わ: "wa", を: "o", ん: "n",
    が: "ga", ぎ: "gi", ぐ: "gu", げ: "ge", ご: "go", ざ: "za", じ: "ji", ず: "zu", ぜ: "ze", ぞ: "zo",
    だ: "da", ぢ: "ji", づ: "zu", で: "de", ど: "do", ば: "ba", び: "bi", ぶ: "bu", べ: "be", ぼ: "bo",
    ぱ: "pa", ぴ: "pi", ぷ: "pu", ぺ: "pe", ぽ: "po", ぁ: "a", ぃ: "i", ぅ: "u", ぇ: "e", ぉ: "o", ゔ: "vu",
  };
  const SMALL = { ゃ: "ya", ゅ: "yu", ょ: "yo" };

  function romanize(text) {
    const hiragana = text.normalize("NFKC").replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));
    let out = "";
    for (let i = 0; i < hiragana.length; i += 1) {
      const c = hiragana[i];
      if (c === "っ") continue; // doubled below
      if (SMALL[c]) {
        out = out.replace(/i$/, "") + SMALL[c];
        continue;
      }
      let roman = KANA[c];
      if (roman === undefined) {
        if (/[a-z0-9]/i.test(c)) roman = c.toLowerCase();
        else if (/[\s\-_ー・]/.test(c)) roman = c === "ー" ? "" : "-";
        else return ""; // kanji or symbols: no reliable reading
      }
      if (i > 0 && hiragana[i - 1] === "っ" && roman) roman = roman[0] + roman;
      out += roman;
    }
    return out.replace(/-+/g, "-").replace(/^-|-$/g, "").slice(0, 60);
  }

  function optionValue(step, option) {
    const taken = new Set((step.options || []).filter((o) => o !== option).map((o) => o.value));
    let base = romanize(option.label.en || "") || romanize(localized(option.label));
    if (!base) {
      const position = step.options.indexOf(option) + 1;
      for (let n = position; ; n += 1) if (!taken.has(`option-${n}`)) return `option-${n}`;
    }
    let candidate = base;
    for (let n = 2; taken.has(candidate); n += 1) candidate = `${base}-${n}`;
    return candidate;
  }

  // --- the step list: select, reorder (drag and drop or buttons), duplicate, delete ---------

  function errorsFor(index) {
    return problems.filter((p) => p.step_index === index);
  }

  function iconButton(text, label, onclick, disabled, testid) {
    return el("button", {
      type: "button", class: "icon-button", text, "aria-label": label, title: label,
      "data-testid": testid, disabled: disabled ? "" : undefined, onclick,
    });
  }

  function stepItem(step, index) {
    const name = stepName(step);
    const errors = errorsFor(index).filter((p) => p.severity === "error");
    const last = index === state.steps.length - 1;
    const item = el("li", {
      class: `step-item${selected === index ? " selected" : ""}${errors.length ? " has-errors" : ""}`,
      draggable: "true", "data-index": index, "data-testid": "step-item", "data-step-id": step.id,
    }, [
      el("button", {
        type: "button", class: "step-select", "data-testid": "step-select",
        "aria-current": selected === index ? "true" : undefined, onclick: () => select(index),
      }, [
        el("span", { class: "step-number", text: `${index + 1}` }),
        el("span", { class: "step-text" }, [
          el("span", { class: "step-type", text: typeLabel(step.type) }),
          el("span", { class: "step-name", text: name }),
        ]),
        errors.length ? el("span", { class: "step-errors", text: `⚠ ${errors.length}`, title: errors.map((e) => e.message).join("\n") }) : null,
      ]),
      el("span", { class: "step-tools" }, [
        iconButton("↑", `${S.move_up}: ${name}`, () => move(index, index - 1, "move-up"), index === 0, "move-up"),
        iconButton("↓", `${S.move_down}: ${name}`, () => move(index, index + 1, "move-down"), last, "move-down"),
        role(step) === "confirm" ? null : iconButton("複", `${S.duplicate}: ${name}`, () => duplicate(index), false, "duplicate"),
        iconButton("✕", `${S.delete}: ${name}`, () => remove(index), false, "delete"),
      ]),
    ]);
    item.addEventListener("dragstart", (event) => {
      dragFrom = index;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", String(index));
      item.classList.add("dragging");
    });
    item.addEventListener("dragend", () => item.classList.remove("dragging"));
    item.addEventListener("dragover", (event) => {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      item.classList.add("drag-over");
    });
    item.addEventListener("dragleave", () => item.classList.remove("drag-over"));
    item.addEventListener("drop", (event) => {
      event.preventDefault();
      item.classList.remove("drag-over");
      const from = dragFrom !== null ? dragFrom : Number(event.dataTransfer.getData("text/plain"));
      dragFrom = null;
      if (!Number.isNaN(from) && from !== index) move(from, index);
    });
    return item;
  }

  function renderSteps() {
    $("step-list").replaceChildren(...state.steps.map(stepItem));
    $("procedure-settings").setAttribute("aria-current", selected === "procedure" ? "true" : "false");
  }

  function keepSelection(step) {
    if (typeof selected === "number") selected = step ? state.steps.indexOf(step) : selected;
  }

  function move(from, to, focus) {
    if (to < 0 || to >= state.steps.length) return;
    const current = typeof selected === "number" ? state.steps[selected] : null;
    const [step] = state.steps.splice(from, 1);
    state.steps.splice(to, 0, step);
    keepSelection(current);
    changed();
    renderEditor();
    const button = focus && document.querySelector(`#step-list [data-index="${to}"] [data-testid="${focus}"]`);
    if (button && !button.disabled) button.focus();
    else if (focus) document.querySelector(`#step-list [data-index="${to}"] .step-select`).focus();
  }

  function duplicate(index) {
    const copy = JSON.parse(JSON.stringify(state.steps[index]));
    copy.id = uniqueId(`${state.steps[index].id}_copy`);
    state.steps.splice(index + 1, 0, copy);
    select(index + 1);
    changed();
  }

  function remove(index) {
    if (!window.confirm(`${S.delete_confirm}\n${stepName(state.steps[index])}`)) return;
    state.steps.splice(index, 1);
    selected = state.steps.length ? Math.min(index, state.steps.length - 1) : "procedure";
    changed();
    renderEditor();
    const next = document.querySelector(`#step-list [data-index="${selected}"] .step-select`);
    (next || $("procedure-settings")).focus();
  }

  function newStep(type) {
    const base = { id: uniqueId(type), type, condition: { mode: "simple", combine: "all", rules: [] } };
    const info = TYPES[type];
    if (info.role === "message" || info.role === "end") base.message = { ja: "" };
    else if (info.role === "question") base.prompt = { ja: "" };
    if (info.needs_options) base.options = [];
    return base;
  }

  function addStep(type) {
    const step = newStep(type);
    let at = typeof selected === "number" ? selected + 1 : state.steps.length;
    const last = state.steps[state.steps.length - 1];
    // New questions go before the confirmation, which must stay the last step.
    if (last && role(last) === "confirm" && at >= state.steps.length && TYPES[type].role !== "confirm") {
      at = state.steps.length - 1;
    }
    state.steps.splice(at, 0, step);
    select(at);
    changed();
    const first = $("editor").querySelector("[data-autofocus]") || $("editor").querySelector("input, textarea, select");
    if (first) first.focus();
  }

  function select(index) {
    selected = index;
    renderSteps();
    renderEditor();
    schedulePreview(0);
  }

  // --- form building blocks --------------------------------------------------------------

  let fieldCounter = 0;

  function fieldId(name) {
    fieldCounter += 1;
    return `bf-${name}-${fieldCounter}`;
  }

  function row(labelText, control, help) {
    const id = control.id || fieldId("field");
    control.id = id;
    const children = [el("label", { for: id, text: labelText }), control];
    if (help) {
      const helpId = `${id}-help`;
      control.setAttribute("aria-describedby", helpId);
      children.push(el("div", { class: "help", id: helpId, text: help }));
    }
    return el("div", { class: "field-row" }, children);
  }

  // A language map ({ja: …, en: …}) edited with one input per language of the document.
  function textsField(owner, key, labelText, { multiline = false, testid = key, autofocus = false, help } = {}) {
    const rows = languages().map((lang, position) => {
      const control = el(multiline ? "textarea" : "input", {
        type: multiline ? undefined : "text", rows: multiline ? 2 : undefined,
        "data-testid": `field-${testid}-${lang}`, lang,
        "data-autofocus": autofocus && position === 0 ? "" : undefined,
      });
      control.value = (owner[key] && owner[key][lang]) || "";
      control.addEventListener("input", () => {
        owner[key] = { ...(owner[key] || {}), [lang]: control.value };
        changed();
      });
      const name = languages().length > 1 || lang !== "ja" ? `${labelText}（${LANGUAGE_NAMES[lang] || lang}）` : labelText;
      return row(name, control, position === 0 ? help : undefined);
    });
    return el("div", { class: "texts" }, rows);
  }

  function numberInput(value, onchange, attrs = {}) {
    const input = el("input", { type: "number", step: "1", ...attrs });
    input.value = value === undefined || value === null ? "" : value;
    input.addEventListener("input", () => onchange(input.value === "" ? undefined : Number(input.value)));
    return input;
  }

  function select_(options, value, onchange, attrs = {}) {
    const node = el("select", attrs, options.map(([optionValue, text]) => el("option", { value: optionValue, text })));
    node.value = value;
    node.addEventListener("change", () => onchange(node.value));
    return node;
  }

  function problemList(index) {
    const mine = index === null ? problems.filter((p) => p.step_index === null) : errorsFor(index);
    if (!mine.length) return null;
    const errors = mine.filter((p) => p.severity === "error");
    const notes = mine.filter((p) => p.severity !== "error");
    const list = (items, cls) => el("ul", {}, items.map((p) => el("li", { class: cls, text: p.message })));
    return el("div", { class: "step-problems", "data-testid": "step-problems" }, [
      errors.length ? el("strong", { text: S.problems }) : null,
      errors.length ? list(errors, "error") : null,
      notes.length ? el("strong", { text: S.notes }) : null,
      notes.length ? list(notes, "warning") : null,
    ]);
  }

  // --- the step form ---------------------------------------------------------------------

  function renameStep(step, id) {
    const old = step.id;
    step.id = id;
    for (const other of state.steps) {
      for (const rule of (other.condition && other.condition.rules) || []) if (rule.step === old) rule.step = id;
    }
    const fee = state.fee_rule || {};
    if (fee.step === old) fee.step = id;
    if (fee.quantity === old) fee.quantity = id;
  }

  function idField(step) {
    const input = el("input", { type: "text", pattern: "[a-z][a-z0-9_]*", maxlength: "64", "data-testid": "field-id", spellcheck: "false" });
    input.value = step.id;
    input.addEventListener("change", () => {
      const id = input.value.trim();
      if (!/^[a-z][a-z0-9_]*$/.test(id)) {
        input.setAttribute("aria-invalid", "true");
        return;
      }
      input.removeAttribute("aria-invalid");
      renameStep(step, uniqueId(id, step));
      input.value = step.id;
      changed();
    });
    return row(S.step_id, input, S.step_id_help);
  }

  function requiredField(step) {
    const box = el("input", { type: "checkbox", "data-testid": "field-required", id: fieldId("required") });
    box.checked = step.required !== false;
    box.addEventListener("change", () => {
      if (box.checked) delete step.required;
      else step.required = false;
      changed();
    });
    return el("div", { class: "checkbox-row" }, [box, el("label", { for: box.id, text: S.required })]);
  }

  function optionsField(step) {
    step.options = step.options || [];
    const list = el("ol", { class: "options", "data-testid": "options" });
    const redraw = () => list.replaceChildren(...step.options.map((option, index) => optionRow(step, option, index, redraw)));
    redraw();
    const add = el("button", {
      type: "button", class: "button", text: `＋ ${S.add_option}`, "data-testid": "add-option",
      onclick: () => {
        const option = { value: "", label: {} };
        step.options.push(option);
        option.value = optionValue(step, option);
        autoValues.add(option);
        redraw();
        changed();
        list.lastElementChild.querySelector("input").focus();
      },
    });
    return el("fieldset", { class: "options-field" }, [el("legend", { text: S.options }), list, add]);
  }

  function optionRow(step, option, index, redraw) {
    const name = localized(option.label) || `${index + 1}`;
    const labels = languages().map((lang) => {
      const input = el("input", { type: "text", lang, "data-testid": `option-label-${lang}`, id: fieldId("option") });
      input.value = option.label[lang] || "";
      input.addEventListener("input", () => {
        option.label = { ...option.label, [lang]: input.value };
        if (autoValues.has(option)) {
          option.value = optionValue(step, option);
          valueInput.value = option.value;
        }
        changed();
      });
      const text = `${S.option_label} ${index + 1}${languages().length > 1 ? `（${LANGUAGE_NAMES[lang] || lang}）` : ""}`;
      return el("span", { class: "option-label" }, [el("label", { for: input.id, class: "visually-hidden", text }), input]);
    });
    const valueInput = el("input", { type: "text", class: "option-value", "data-testid": "option-value", id: fieldId("value"), spellcheck: "false" });
    valueInput.value = option.value;
    valueInput.addEventListener("input", () => {
      autoValues.delete(option);
      option.value = valueInput.value.trim();
      changed();
    });
    const shift = (to) => {
      const [moved] = step.options.splice(index, 1);
      step.options.splice(to, 0, moved);
      redraw();
      changed();
    };
    return el("li", { class: "option-row", "data-testid": "option-row" }, [
      ...labels,
      el("label", { for: valueInput.id, class: "option-value-label", text: S.option_value }),
      valueInput,
      iconButton("↑", `${S.move_up}: ${name}`, () => shift(index - 1), index === 0),
      iconButton("↓", `${S.move_down}: ${name}`, () => shift(index + 1), index === step.options.length - 1),
      iconButton("✕", `${S.remove_option}: ${name}`, () => {
        step.options.splice(index, 1);
        redraw();
        changed();
      }, false, "remove-option"),
    ]);
  }

  function validationField(step) {
    const fields = TYPES[step.type].validation;
    if (!fields.length) return null;
    const rules = step.validation || {};
    const set = (key, value) => {
      const next = { ...(step.validation || {}) };
      if (value === undefined || value === "") delete next[key];
      else next[key] = value;
      step.validation = next;
      changed({ list: false });
    };
    const rows = fields.map((key) => {
      if (key === "pattern") {
        const input = el("input", { type: "text", "data-testid": "validation-pattern", spellcheck: "false" });
        input.value = rules.pattern || "";
        input.addEventListener("input", () => set("pattern", input.value));
        return row(S.pattern, input);
      }
      if (key === "script") {
        const select = el("select", { "data-testid": "validation-script" }, ["", "katakana", "hiragana"].map((value) =>
          el("option", { value, text: S[`script_${value || "any"}`] })));
        select.value = rules.script || "";
        select.addEventListener("change", () => set("script", select.value));
        return row(S.script, select);
      }
      if (rules[key] !== null && typeof rules[key] === "object") {
        const fixed = el("input", { type: "text", readonly: "", value: JSON.stringify(rules[key]) });
        return row(`${S[key]} (${S.fee_advanced})`, fixed);
      }
      return row(S[key], numberInput(rules[key], (value) => set(key, value), { "data-testid": `validation-${key}` }));
    });
    return el("fieldset", { class: "validation-field" }, [el("legend", { text: S.validation }), ...rows]);
  }

  // --- the condition editor -----------------------------------------------------------------

  const OPS_BY_TYPE = {
    choice: ["is", "is_not", "answered"],
    multi_choice: ["includes", "answered"],
    yes_no: ["is", "answered"],
    consent: ["is", "answered"],
    number: ["is", "is_not", "gt", "lt", "answered"],
    text: ["is", "is_not", "includes", "answered"],
    image: ["answered"],
    location: ["answered"],
  };

  function opsFor(step) {
    return OPS_BY_TYPE[step.type] || ["is", "is_not", "answered"];
  }

  function defaultValue(step) {
    if (step.options && step.options.length) return step.options[0].value;
    if (step.type === "yes_no" || step.type === "consent") return true;
    if (step.type === "number") return 0;
    return "";
  }

  function valueControl(target, rule, onchange) {
    if (rule.op === "answered") return null;
    const label = S.value;
    if (target.options) {
      const options = target.options.map((o) => [o.value, localized(o.label) || o.value]);
      return select_(options, rule.value, onchange, { "aria-label": label, "data-testid": "rule-value" });
    }
    if (target.type === "yes_no" || target.type === "consent") {
      return select_([["true", S.yes], ["false", S.no]], String(rule.value), (v) => onchange(v === "true"), { "aria-label": label, "data-testid": "rule-value" });
    }
    if (target.type === "number") {
      return numberInput(rule.value, (v) => onchange(v === undefined ? 0 : v), { "aria-label": label, "data-testid": "rule-value" });
    }
    const input = el("input", { type: "text", "aria-label": label, "data-testid": "rule-value" });
    input.value = rule.value === null || rule.value === undefined ? "" : rule.value;
    input.addEventListener("input", () => onchange(input.value));
    return input;
  }

  function ruleRow(step, rule, index, earlier, redraw) {
    const target = earlier.find((s) => s.id === rule.step) || earlier[0];
    const stepSelect = select_(earlier.map((s) => [s.id, stepName(s)]), rule.step, (id) => {
      const chosen = earlier.find((s) => s.id === id);
      Object.assign(rule, { step: id, op: opsFor(chosen)[0], value: defaultValue(chosen) });
      redraw();
      changed({ list: false });
    }, { "aria-label": S.earlier_step, "data-testid": "rule-step" });
    const opSelect = select_(opsFor(target).map((op) => [op, S[`op_${op}`]]), rule.op, (op) => {
      rule.op = op;
      rule.value = op === "answered" ? null : (rule.value === null ? defaultValue(target) : rule.value);
      redraw();
      changed({ list: false });
    }, { "aria-label": S.operator, "data-testid": "rule-op" });
    const value = valueControl(target, rule, (v) => {
      rule.value = v;
      changed({ list: false });
    });
    const removeButton = iconButton("✕", S.remove_rule, () => {
      step.condition.rules.splice(index, 1);
      redraw();
      changed({ list: false });
    }, false, "remove-rule");
    return el("li", { class: "rule-row", "data-testid": "rule-row" }, [stepSelect, opSelect, value, removeButton]);
  }

  function conditionField(step, index) {
    const earlier = state.steps.slice(0, index).filter((s) => role(s) === "question");
    const box = el("div", { class: "condition-body" });
    const toggle = el("input", { type: "checkbox", id: fieldId("advanced"), "data-testid": "condition-advanced" });
    const fieldset = el("fieldset", { class: "condition-field", "data-testid": "condition" }, [
      el("legend", { text: S.condition }),
      box,
      el("div", { class: "checkbox-row" }, [toggle, el("label", { for: toggle.id, text: S.advanced })]),
    ]);
    step.condition = step.condition || { mode: "simple", combine: "all", rules: [] };
    const redraw = () => {
      toggle.checked = step.condition.mode === "advanced";
      box.replaceChildren(...(toggle.checked ? advancedCondition(step) : simpleCondition(step, earlier, redraw)));
    };
    toggle.addEventListener("change", async () => {
      const kind = "condition";
      if (toggle.checked) {
        const { data } = await post(config.urls.convert, { kind, model: step.condition });
        step.condition = { mode: "advanced", logic: data.logic === undefined ? null : data.logic };
      } else {
        const { data } = await post(config.urls.convert, { kind, logic: step.condition.logic });
        if (data.model) step.condition = data.model;
      }
      redraw();
      if (!toggle.checked || step.condition.mode !== "advanced") changed({ list: false });
    });
    redraw();
    return fieldset;
  }

  function simpleCondition(step, earlier, redraw) {
    const condition = step.condition;
    const parts = [];
    if (!condition.rules.length) parts.push(el("p", { class: "hint", text: S.always }));
    else {
      const combine = select_([["all", S.combine_all], ["any", S.combine_any]], condition.combine, (v) => {
        condition.combine = v;
        changed({ list: false });
      }, { "aria-label": S.ask_when, "data-testid": "rule-combine" });
      parts.push(el("p", { class: "ask-when" }, [el("span", { text: `${S.ask_when}: ` }), condition.rules.length > 1 ? combine : null]));
      parts.push(el("ol", { class: "rules" }, condition.rules.map((rule, i) => ruleRow(step, rule, i, earlier, redraw))));
    }
    if (!earlier.length) parts.push(el("p", { class: "hint", text: S.no_earlier }));
    else {
      parts.push(el("button", {
        type: "button", class: "button", text: `＋ ${S.add_rule}`, "data-testid": "add-rule",
        onclick: () => {
          const target = earlier[earlier.length - 1];
          condition.rules.push({ step: target.id, op: opsFor(target)[0], value: defaultValue(target) });
          redraw();
          changed({ list: false });
        },
      }));
    }
    return parts;
  }

  function jsonEditor(value, onvalid, testid) {
    const area = el("textarea", { rows: 5, class: "json-editor", spellcheck: "false", "data-testid": testid, "aria-label": S.advanced });
    const error = el("p", { class: "errornote json-error", role: "alert", hidden: "" });
    area.value = JSON.stringify(value, null, 1);
    area.addEventListener("input", () => {
      try {
        const parsed = JSON.parse(area.value);
        error.hidden = true;
        area.removeAttribute("aria-invalid");
        onvalid(parsed);
      } catch (problem) {
        error.hidden = false;
        error.textContent = S.advanced_invalid;
        area.setAttribute("aria-invalid", "true");
      }
    });
    return [area, error];
  }

  function advancedCondition(step) {
    return [
      el("p", { class: "hint", text: S.advanced_note }),
      ...jsonEditor(step.condition.logic, (logic) => {
        step.condition = { mode: "advanced", logic };
        changed({ list: false });
      }, "condition-json"),
    ];
  }

  // What a bound step (a reservation step's resource) names: one of this municipality's
  // (name and key), as its binding offers them in config.bindings[type] (field, choices,
  // url, strings). A key that is not one of them (e.g. from a template made elsewhere)
  // stays selected, marked, until the designer chooses; publishing refuses it meanwhile.
  function boundField(step, binding) {
    const box = el("div", { class: `${binding.field}-field` });
    const draw = (focus) => {
      box.replaceChildren(...boundParts(step, binding, () => draw(true)));
      const select = box.querySelector("select");
      if (focus && select) select.focus();
    };
    draw(false);
    return box;
  }

  function boundParts(step, binding, redraw) {
    const T = binding.strings;
    const known = binding.choices;
    const current = step[binding.field] || "";
    const found = known.find((choice) => choice.key === current);
    const parts = [];
    if (!known.some((choice) => choice.active) && !found) parts.push(noChoices(binding));
    else parts.push(boundSelect(step, binding, current, found, redraw));
    let warning = null;
    if (current && !found) warning = format(T.unknown, { key: current });
    else if (found && !found.active) warning = format(T.inactive, { name: found.name });
    if (warning) parts.push(el("p", { class: `errornote ${binding.field}-warning`, "data-testid": `${binding.field}-warning`, text: warning }));
    return parts;
  }

  function boundSelect(step, binding, current, found, redraw) {
    const T = binding.strings;
    const options = [["", T.choose]];
    for (const choice of binding.choices.filter((c) => c.active)) options.push([choice.key, `${choice.name} (${choice.key})`]);
    if (current && !found) options.push([current, format(T.unknown_option, { key: current })]);
    if (found && !found.active) options.push([current, format(T.inactive_option, { name: found.name, key: current })]);
    const select = select_(options, current, (key) => {
      if (key) step[binding.field] = key;
      else delete step[binding.field];
      changed({ list: false });
      redraw();
    }, { "data-testid": `field-${binding.field}`, id: fieldId(binding.field) });
    return row(T.label, select, T.help);
  }

  function noChoices(binding) {
    const T = binding.strings;
    return el("div", { class: `field-row ${binding.field}-none`, "data-testid": `${binding.field}-none` }, [
      el("strong", { text: T.label }),
      el("p", { text: T.none }),
      binding.url ? el("a", { href: binding.url, target: "_blank", rel: "noopener", "data-testid": `${binding.field}-link`, text: T.open }) : el("p", { class: "hint", text: T.ask }),
    ]);
  }

  // --- a step bound to what its procedure kind offers (a profile's resident attributes) ---
  // A step is bound to a field by having the field's key as its id: it takes the field's
  // question type and options, and its options follow the field (synced when the page opens).

  function kindBinding() {
    const binding = (config.kind_bindings || {})[state.kind];
    return binding && binding.fields ? binding : null;
  }

  function boundAttribute(step) {
    const binding = kindBinding();
    return binding ? binding.fields.find((field) => field.key === step.id) || null : null;
  }

  function followedOptions(step, field) {
    const old = Object.fromEntries((step.options || []).map((o) => [o.value, o.label || {}]));
    const lang = languages()[0];
    return field.options.map((o) => ({ value: o.value, label: { ...(old[o.value] || {}), [lang]: o.label.ja } }));
  }

  function bindStep(step, field) {
    if (step.id !== field.key) renameStep(step, uniqueId(field.key, step));
    step.type = field.type;
    if (field.options.length || TYPES[field.type].needs_options) step.options = followedOptions(step, field);
    else delete step.options;
    const lang = languages()[0];
    if (!localized(step.prompt)) step.prompt = { ...(step.prompt || {}), [lang]: field.label };
    if (!localized(step.label)) step.label = { ...(step.label || {}), [lang]: field.label };
  }

  function attributeField(step, binding) {
    const T = binding.strings;
    if (!binding.fields.length) {
      const link = binding.url ? el("a", { href: binding.url, target: "_blank", rel: "noopener", text: T.open }) : null;
      return el("div", { class: "field-row attribute-none", "data-testid": "attribute-none" }, [el("strong", { text: T.label }), el("p", { text: T.no_fields }), link].filter(Boolean));
    }
    const current = boundAttribute(step);
    const options = [["", T.none], ...binding.fields.map((f) => [f.key, `${f.label} (${f.key})`])];
    const select = select_(options, current ? current.key : "", (key) => {
      const field = binding.fields.find((f) => f.key === key);
      if (field) bindStep(step, field);
      changed();
      renderEditor();
      const again = $("editor").querySelector('[data-testid="field-attribute"]');
      if (again) again.focus();
    }, { "data-testid": "field-attribute", id: fieldId("attribute") });
    return row(T.label, select, T.help);
  }

  function followedOptionsField(step, field, binding) {
    const T = binding.strings;
    const list = el("ul", { class: "options followed", "data-testid": "followed-options" },
      (step.options || []).map((o) => el("li", { text: `${localized(o.label)} (${o.value})` })));
    const link = binding.url ? el("a", { href: binding.url, target: "_blank", rel: "noopener", text: T.open }) : null;
    return el("fieldset", { class: "options-field" }, [
      el("legend", { text: S.options }),
      el("p", { class: "help", text: format(T.follows, { field: field.label }) }),
      list, link,
    ].filter(Boolean));
  }

  function syncBoundSteps() {
    const binding = kindBinding();
    if (!binding) return false;
    let synced = false;
    for (const step of state.steps) {
      const field = boundAttribute(step);
      if (!field || step.type !== field.type || !TYPES[field.type].needs_options) continue;
      const options = followedOptions(step, field);
      if (JSON.stringify(options) !== JSON.stringify(step.options || [])) {
        step.options = options;
        synced = true;
      }
    }
    return synced;
  }

  function renderStepForm(step, index) {
    const kind = role(step);
    const parts = [problemList(index), idField(step)];
    const binding = kindBinding();
    const attribute = binding && kind === "question" ? boundAttribute(step) : null;
    if (binding && kind === "question") parts.push(attributeField(step, binding));
    if (kind === "question") {
      parts.push(textsField(step, "prompt", S.prompt, { multiline: true, autofocus: true }));
      parts.push(textsField(step, "label", S.label));
      parts.push(textsField(step, "help", S.help));
      parts.push(requiredField(step));
    } else if (kind === "confirm") {
      parts.push(textsField(step, "prompt", S.summary_title, { autofocus: true }));
    } else {
      parts.push(textsField(step, "message", S.message, { multiline: true, autofocus: true }));
    }
    if (config.bindings[step.type]) parts.push(boundField(step, config.bindings[step.type]));
    if (attribute && step.type === attribute.type && TYPES[step.type].needs_options) parts.push(followedOptionsField(step, attribute, binding));
    else if (TYPES[step.type] && TYPES[step.type].needs_options) parts.push(optionsField(step));
    if (TYPES[step.type]) parts.push(validationField(step));
    if (kind === "question") {
      parts.push(el("details", { class: "more" }, [el("summary", { text: S.error }), textsField(step, "error", S.error)]));
    }
    parts.push(conditionField(step, index));
    return parts;
  }

  // --- procedure settings and the fee editor ------------------------------------------------

  function languagesField() {
    const boxes = config.languages.map((lang) => {
      const box = el("input", { type: "checkbox", value: lang.code, id: fieldId(`lang-${lang.code}`), "data-testid": `language-${lang.code}` });
      box.checked = languages().includes(lang.code);
      box.disabled = lang.code === languages()[0];
      box.addEventListener("change", () => {
        const chosen = config.languages.map((l) => l.code).filter((code) => code === languages()[0] || (code === lang.code ? box.checked : languages().includes(code)));
        state.languages = chosen;
        changed();
        renderEditor();
        renderLanguages();
      });
      return el("span", { class: "checkbox-row" }, [box, el("label", { for: box.id, text: lang.name })]);
    });
    return el("fieldset", { class: "languages-field" }, [el("legend", { text: config.labels.languages }), ...boxes]);
  }

  function keywordsField() {
    const area = el("textarea", { rows: 2, "data-testid": "field-keywords" });
    area.value = ((state.triggers && state.triggers.keywords) || []).join("\n");
    area.addEventListener("input", () => {
      const keywords = [...new Set(area.value.split(/[\n,、]/).map((k) => k.trim()).filter(Boolean))];
      state.triggers = { ...(state.triggers || {}), keywords };
      changed({ list: false });
    });
    return row(config.labels.keywords, area, config.labels.keywords_help);
  }

  function feeField() {
    const box = el("div", { class: "fee-body" });
    const modes = [["none", S.fee_none], ["fixed", S.fee_fixed], ["per_option", S.fee_per_option], ["advanced", S.fee_advanced]];
    state.fee_rule = state.fee_rule || { mode: "none" };
    const modeSelect = select_(modes, state.fee_rule.mode, async (mode) => {
      if (mode === "advanced") {
        const { data } = await post(config.urls.convert, { kind: "fee", model: state.fee_rule });
        state.fee_rule = { mode, logic: data.logic === undefined ? null : data.logic };
      } else if (mode === "fixed") state.fee_rule = { mode, amount: 0, quantity: state.fee_rule.quantity || "" };
      else if (mode === "per_option") state.fee_rule = perOptionDefault();
      else state.fee_rule = { mode };
      redraw();
      changed({ list: false });
    }, { "data-testid": "fee-mode", id: fieldId("fee-mode") });
    const redraw = () => box.replaceChildren(...feeBody(state.fee_rule, redraw));
    redraw();
    return el("fieldset", { class: "fee-field", "data-testid": "fee" }, [
      el("legend", { text: config.labels.fee }), row(config.labels.fee_kind, modeSelect), box,
    ]);
  }

  function choiceSteps() {
    return state.steps.filter((s) => s.type === "choice" || s.type === "multi_choice");
  }

  function perOptionDefault() {
    const step = choiceSteps()[0];
    return {
      mode: "per_option", step: step ? step.id : "", match: step && step.type === "multi_choice" ? "includes" : "is",
      amounts: step ? (step.options || []).map((o) => ({ value: o.value, amount: 0 })) : [], quantity: "",
    };
  }

  function quantityField(rule) {
    const numbers = state.steps.filter((s) => s.type === "number");
    const options = [["", S.fee_no_quantity], ...numbers.map((s) => [s.id, stepName(s)])];
    return row(S.fee_quantity, select_(options, rule.quantity || "", (v) => {
      rule.quantity = v;
      changed({ list: false });
    }, { "data-testid": "fee-quantity" }));
  }

  function feeBody(rule, redraw) {
    if (rule.mode === "fixed") {
      return [row(S.fee_amount, numberInput(rule.amount, (v) => {
        rule.amount = v || 0;
        changed({ list: false });
      }, { min: "0", "data-testid": "fee-amount" })), quantityField(rule)];
    }
    if (rule.mode === "per_option") {
      const steps = choiceSteps();
      const stepSelect = select_(steps.map((s) => [s.id, stepName(s)]), rule.step, (id) => {
        state.fee_rule = { ...perOptionDefault(), quantity: rule.quantity };
        const step = steps.find((s) => s.id === id);
        Object.assign(state.fee_rule, { step: id, match: step.type === "multi_choice" ? "includes" : "is", amounts: (step.options || []).map((o) => ({ value: o.value, amount: 0 })) });
        redraw();
        changed({ list: false });
      }, { "data-testid": "fee-step" });
      const step = steps.find((s) => s.id === rule.step);
      const amounts = ((step && step.options) || []).map((option) => {
        let entry = rule.amounts.find((a) => a.value === option.value);
        const input = numberInput(entry ? entry.amount : 0, (v) => {
          entry = rule.amounts.find((a) => a.value === option.value);
          if (!entry) rule.amounts.push((entry = { value: option.value, amount: 0 }));
          entry.amount = v || 0;
          changed({ list: false });
        }, { min: "0", "data-testid": `fee-option-${option.value}` });
        return row(`${localized(option.label) || option.value}（${S.fee_amount}）`, input);
      });
      return [row(S.fee_step, stepSelect), ...amounts, quantityField(rule)];
    }
    if (rule.mode === "advanced") {
      return jsonEditor(rule.logic, (logic) => {
        state.fee_rule = { mode: "advanced", logic };
        changed({ list: false });
      }, "fee-json");
    }
    return [];
  }

  function kindField() {
    const options = config.kinds.map((kind) => [kind.code, kind.name]);
    return row(config.labels.kind, select_(options, state.kind, (v) => {
      state.kind = v;
      changed({ list: false });
    }, { "data-testid": "field-kind" }));
  }

  function categoryField() {
    const input = el("input", { type: "text", maxlength: "100", "data-testid": "field-category" });
    input.value = state.category || "";
    input.addEventListener("input", () => {
      state.category = input.value;
      changed({ list: false });
    });
    return row(config.labels.category, input);
  }

  function renderProcedureForm() {
    const L = config.labels;
    return [
      problemList(null),
      textsField(state, "title", L.title, { testid: "title", autofocus: true }),
      textsField(state, "description", L.description, { multiline: true, testid: "description" }),
      kindField(),
      categoryField(),
      languagesField(),
      keywordsField(),
      textsField(state, "completion", L.completion, { multiline: true, testid: "completion", help: L.completion_help }),
      feeField(),
    ];
  }

  function renderEditor() {
    const heading = $("editor-heading");
    if (selected === "procedure" || !state.steps[selected]) {
      selected = selected === "procedure" || !state.steps.length ? "procedure" : 0;
    }
    if (selected === "procedure") {
      heading.textContent = config.labels.settings;
      $("editor").replaceChildren(...renderProcedureForm().filter(Boolean));
      return;
    }
    const step = state.steps[selected];
    heading.textContent = format(S.step_of, { number: selected + 1, type: typeLabel(step.type) });
    $("editor").replaceChildren(...renderStepForm(step, selected).filter(Boolean));
  }

  // --- the live LINE preview ----------------------------------------------------------------

  function renderLanguages() {
    const chooser = $("preview-lang");
    const current = chooser.value;
    chooser.replaceChildren(...languages().map((lang) => el("option", { value: lang, text: LANGUAGE_NAMES[lang] || lang })));
    chooser.value = languages().includes(current) ? current : languages()[0];
  }

  function schedulePreview(delay = 300) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, delay);
  }

  async function refreshPreview() {
    const index = typeof selected === "number" ? selected : 0;
    const list = $("preview-messages");
    const quick = $("preview-quick");
    if (!state.steps.length) {
      list.replaceChildren();
      quick.replaceChildren();
      return;
    }
    const asked = edits;
    const { data } = await post(config.urls.preview, { state, index, lang: $("preview-lang").value });
    if (asked !== edits) return; // a newer preview is on its way
    const messages = data.messages || [];
    const onAction = () => { $("preview-status").textContent = S.preview_note; };
    list.replaceChildren(...messages.map((message) => el("li", { class: "message out", "data-testid": "preview-message" }, [
      el("span", { class: "avatar", "aria-hidden": "true", text: ($("preview-title").textContent || "公").trim().slice(0, 1) }),
      el("div", { class: "message-body" }, LineRender.renderMessage(message, { onAction })),
    ])));
    quick.replaceChildren(...LineRender.renderQuickReplies(messages[messages.length - 1], { onAction }));
    quick.hidden = !quick.childElementCount;
    $("preview-status").textContent = data.error || "";
  }

  // --- saving ------------------------------------------------------------------------------------

  async function save() {
    const button = $("save-button");
    button.disabled = true;
    setStatus(S.saving);
    const asked = edits;
    try {
      const { status, data } = await post(config.urls.save, { state, expected_revision: revision });
      if (status === 200) {
        revision = data.revision;
        problems = data.problems;
        if (asked === edits) {
          state = data.state;
          dirty = false;
          setStatus(`${S.saved} ${new Date().toLocaleTimeString("ja-JP", { hour: "2-digit", minute: "2-digit" })}`);
          renderSteps();
          renderEditor();
        } else {
          setStatus(S.unsaved);
          renderSteps();
        }
        $("conflict").hidden = true;
        return true;
      }
      if (status === 409) {
        $("conflict").textContent = S.conflict;
        $("conflict").hidden = false;
        setStatus(format(S.save_failed, { reason: data.error || status }));
        return false;
      }
      setStatus(format(S.save_failed, { reason: data.error || status }));
      return false;
    } catch (problem) {
      setStatus(format(S.save_failed, { reason: problem.message }));
      return false;
    } finally {
      button.disabled = false;
    }
  }

  // --- wiring ------------------------------------------------------------------------------------

  function init() {
    if (syncBoundSteps()) {
      changed();
      setStatus(`${kindBinding().strings.synced} ${S.unsaved}`);
    }
    renderLanguages();
    renderSteps();
    renderEditor();
    schedulePreview(0);
    $("palette").addEventListener("click", (event) => {
      const button = event.target.closest("[data-type]");
      if (button) addStep(button.dataset.type);
    });
    $("procedure-settings").addEventListener("click", () => {
      selected = "procedure";
      renderSteps();
      renderEditor();
      schedulePreview(0);
      $("editor-heading").focus();
    });
    $("preview-lang").addEventListener("change", () => schedulePreview(0));
    $("save-button").addEventListener("click", save);
    document.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "s") {
        event.preventDefault();
        save();
      }
    });
    $("try-form").addEventListener("submit", async (event) => {
      if (!dirty) return;
      event.preventDefault();
      if (await save()) $("try-form").submit();
    });
    $("try-line-form").addEventListener("submit", async (event) => {
      if (!dirty) return;
      event.preventDefault();
      if (await save()) $("try-line-form").submit();
    });
    $("publish-link").addEventListener("click", async (event) => {
      if (!dirty) return;
      event.preventDefault();
      if (await save()) window.location.href = $("publish-link").href;
    });
    window.addEventListener("beforeunload", (event) => {
      if (!dirty) return;
      event.preventDefault();
      event.returnValue = S.leave;
    });
  }

  init();
})();
