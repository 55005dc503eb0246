/* The broadcast page's message composer: 1–5 cards (text, image, procedure button,
 * notice card) that staff add, fill in, move up or down and remove. It reads and writes
 * the messages JSON of the form's textarea (#id_messages), which stays the one thing
 * submitted and validated by the server (delivery/broadcasts/messages.py); the textarea
 * is kept behind an "advanced" toggle. Kinds, procedures, templates, limits and every
 * label come from the server (delivery/broadcasts/composer.py) in
 * #broadcast-composer-config. Writing the textarea fires its "input" event, which
 * preview.js answers with the LINE preview. Images are uploaded to the console, which
 * answers their public addresses. Plain JS, no dependencies.
 *
 * State: ``items``, the very list the JSON holds. A card edits only the keys it knows
 * and leaves any other key of its item as it was.
 */
(() => {
  "use strict";
  const root = document.getElementById("broadcast-composer");
  const input = document.getElementById("id_messages");
  const configNode = document.getElementById("broadcast-composer-config");
  if (!root || !input || !configNode) return;

  const config = JSON.parse(configNode.textContent);
  const S = config.strings;
  const LIMITS = config.limits;
  const kindLabels = new Map(config.kinds.map((kind) => [kind.type, kind.label]));
  const $ = (selector) => root.querySelector(selector);
  const cards = $("#composer-cards");
  const addBar = $("#composer-add");
  const notice = $("#composer-notice");
  const status = $("#composer-status");
  const toggle = $("#composer-advanced-toggle");
  const advanced = $("#composer-advanced");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  const channel = document.getElementById("id_channel");
  let items = [];
  const fresh = new WeakSet(); // cards just added: no "required" hints before the first edit

  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key === "value") node.value = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of [].concat(children)) if (child) node.append(child);
    return node;
  }

  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, name) => values[name]);

  // --- messages JSON ⇄ items -------------------------------------------------------------

  // The keys each kind's card edits; their values must be strings for the card to show them.
  const FIELDS = {
    text: ["text"],
    image: ["url", "preview_url"],
    button: ["text", "label", "procedure"],
    flex: ["template", "title", "body", "url"],
  };

  function fits(item) {
    if (!item || typeof item !== "object" || Array.isArray(item) || !FIELDS[item.type]) return false;
    return FIELDS[item.type].every((key) => item[key] === undefined || typeof item[key] === "string");
  }

  /** The items of the JSON text, or null when the composer cannot show them faithfully. */
  function parse(text) {
    if (!text.trim()) return [];
    let value;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return null;
    }
    if (!Array.isArray(value) || value.length > LIMITS.items || !value.every(fits)) return null;
    return value;
  }

  function write() {
    input.value = JSON.stringify(items, null, 2);
    input.dispatchEvent(new Event("input")); // preview.js redraws (isTrusted is false)
  }

  function newItem(type) {
    if (type === "text") return { type, text: "" };
    if (type === "image") return { type, url: "" };
    if (type === "button") {
      return { type, text: "", label: "", procedure: config.procedures.length ? config.procedures[0].value : "" };
    }
    return { type, template: config.templates[0].value, title: "", body: "" };
  }

  // --- drawing -------------------------------------------------------------------------------

  function counterText(value, max) {
    return fmt(S.count, { count: value.length, max });
  }

  /** A labelled control with its hint (and counter), wired for screen readers. */
  function field(index, name, labelText, control, { max, optional } = {}) {
    const id = `composer-${index}-${name}`;
    const hintId = `${id}-hint`;
    const countId = `${id}-count`;
    control.id = id;
    control.dataset.field = name;
    control.setAttribute("aria-describedby", max ? `${countId} ${hintId}` : hintId);
    if (!optional) control.required = true;
    return el("div", { class: "composer-field" }, [
      el("label", { for: id, text: labelText }),
      control,
      max ? el("span", { class: "composer-count", id: countId, "data-count": name, "data-max": String(max) }) : null,
      el("span", { class: "composer-hint", id: hintId, "data-hint": name }),
    ]);
  }

  function textArea(value, rows) {
    return el("textarea", { rows: String(rows), value: value || "" });
  }

  function textInput(value, attrs = {}) {
    return el("input", { type: "text", value: value || "", ...attrs });
  }

  function select(options, selected, extraLabel) {
    const known = options.map((option) => option.value);
    const extra = selected && !known.includes(selected) ? [{ value: selected, label: fmt(extraLabel, { key: selected }) }] : [];
    return el("select", {}, [...options, ...extra].map((option) =>
      el("option", { value: option.value, text: option.label, selected: option.value === selected })));
  }

  function textFields(item, i) {
    return [
      field(i, "text", S.text, textArea(item.text, 5), { max: LIMITS.text }),
      el("p", { class: "composer-tools" }, [
        el("button", { type: "button", class: "button", "data-action": "insert-name", "data-testid": "insert-display-name", text: S.insert_name }),
        el("span", { class: "help", text: ` ${S.name_hint}` }),
      ]),
    ];
  }

  function imageFields(item, i) {
    const file = el("input", { type: "file", accept: "image/jpeg,image/png", "data-testid": "image-file" });
    const parts = [field(i, "file", S.image, file, { optional: Boolean(item.url) })];
    parts.push(el("p", { class: "composer-upload", "data-upload-status": "", role: "status", "data-testid": "upload-status" }));
    if (item.url) {
      parts.push(el("img", {
        class: "composer-thumb",
        src: item.preview_url || item.url,
        alt: fmt(S.image_alt, { n: i + 1 }),
        "data-testid": "image-thumbnail",
      }));
    }
    return parts;
  }

  function buttonFields(item, i) {
    const procedures = config.procedures;
    const choose = select(procedures, item.procedure, S.unknown_procedure);
    if (!item.procedure) choose.prepend(el("option", { value: "", text: S.choose_procedure, selected: true }));
    return [
      field(i, "text", S.button_text, textArea(item.text, 3), { max: LIMITS.button_text }),
      field(i, "label", S.label, textInput(item.label, { maxlength: String(LIMITS.label) }), { max: LIMITS.label }),
      field(i, "procedure", S.procedure, choose),
      procedures.length ? null : el("p", { class: "errornote", text: S.no_procedures }),
    ];
  }

  function flexFields(item, i) {
    return [
      field(i, "template", S.template, select(config.templates, item.template || config.templates[0].value, "%(key)s")),
      field(i, "title", S.title, textInput(item.title)),
      field(i, "body", S.body, textArea(item.body, 4)),
      field(i, "url", S.link, el("input", { type: "url", value: item.url || "", placeholder: "https://" }), { optional: true }),
    ];
  }

  const DRAW = { text: textFields, image: imageFields, button: buttonFields, flex: flexFields };

  function cardNode(item, i) {
    const n = i + 1;
    const title = fmt(S.card, { n, kind: kindLabels.get(item.type) });
    const headingId = `composer-${i}-heading`;
    const tools = el("p", { class: "composer-card-tools" }, [
      el("button", { type: "button", class: "button", "data-action": "up", "data-testid": "card-up", "aria-label": fmt(S.move_up, { n }), disabled: i === 0, text: `↑ ${S.up_text}` }),
      el("button", { type: "button", class: "button", "data-action": "down", "data-testid": "card-down", "aria-label": fmt(S.move_down, { n }), disabled: i === items.length - 1, text: `↓ ${S.down_text}` }),
      el("button", { type: "button", class: "button composer-remove", "data-action": "remove", "data-testid": "card-remove", "aria-label": fmt(S.remove, { n }), text: S.remove_text }),
    ]);
    return el("li", { class: `composer-card composer-${item.type}`, "data-index": String(i), "data-kind": item.type, "data-testid": "composer-card", role: "group", "aria-labelledby": headingId }, [
      el("div", { class: "composer-card-head" }, [el("h3", { id: headingId, text: title }), tools]),
      ...DRAW[item.type](item, i),
    ]);
  }

  function render(focus) {
    cards.replaceChildren(...items.map(cardNode));
    $("#composer-empty").hidden = items.length > 0;
    const full = items.length >= LIMITS.items;
    for (const button of addBar.querySelectorAll("button")) button.disabled = full;
    $("#composer-full").hidden = !full;
    cards.querySelectorAll(".composer-card").forEach((card) => refreshChecks(card));
    if (focus) focusOn(focus);
  }

  function focusOn({ index, action }) {
    const card = cards.querySelector(`[data-index="${index}"]`);
    if (!card) {
      addBar.querySelector("button:not([disabled])")?.focus();
      return;
    }
    const wanted = card.querySelector(`[data-action="${action}"]:not([disabled])`);
    (wanted || card.querySelector("[data-action]:not([disabled])") || card).focus();
  }

  /** Counters and "required" hints of one card, from its item. */
  function refreshChecks(card) {
    const item = items[Number(card.dataset.index)];
    for (const count of card.querySelectorAll("[data-count]")) {
      const value = item[count.dataset.count] || "";
      const max = Number(count.dataset.max);
      count.textContent = counterText(value, max);
      count.classList.toggle("over", value.length > max);
    }
    for (const hint of card.querySelectorAll("[data-hint]")) {
      const name = hint.dataset.hint;
      const control = card.querySelector(`[data-field="${name}"]`);
      const max = Number(card.querySelector(`[data-count="${name}"]`)?.dataset.max || 0);
      const value = name === "file" ? item.url : item[name];
      let problem = "";
      const empty = control.required && !(value || "").trim();
      if (empty && !fresh.has(item)) problem = name === "file" ? S.no_image : S.required;
      else if (max && (value || "").length > max) problem = fmt(S.too_long, { max });
      hint.textContent = problem;
      if (problem) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
  }

  // --- events ---------------------------------------------------------------------------

  function cardOf(node) {
    const card = node.closest(".composer-card");
    return card ? Number(card.dataset.index) : null;
  }

  function onInput(event) {
    const name = event.target.dataset.field;
    const index = cardOf(event.target);
    if (!name || name === "file" || index === null) return;
    const item = items[index];
    const value = event.target.value;
    fresh.delete(item);
    if (name === "url" && item.type === "flex" && !value) delete item.url; // optional link
    else item[name] = value;
    refreshChecks(event.target.closest(".composer-card"));
    write();
  }

  function onClick(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    if (action === "add") {
      if (items.length >= LIMITS.items) return;
      const item = newItem(button.dataset.kind);
      fresh.add(item);
      items.push(item);
      write();
      render();
      cards.lastElementChild.querySelector("[data-field]").focus();
      return;
    }
    const index = cardOf(button);
    if (index === null) return;
    if (action === "insert-name") insertName(button.closest(".composer-card"), index);
    else if (action === "remove") remove(index);
    else move(index, action === "up" ? -1 : 1, action);
  }

  function move(index, step, action) {
    const to = index + step;
    if (to < 0 || to >= items.length) return;
    [items[index], items[to]] = [items[to], items[index]];
    write();
    render({ index: to, action });
    announce(fmt(S.moved, { from: index + 1, to: to + 1 }));
  }

  function remove(index) {
    items.splice(index, 1);
    write();
    render({ index: Math.min(index, items.length - 1), action: "remove" });
    announce(fmt(S.removed, { n: index + 1 }));
  }

  function announce(text) {
    status.textContent = text;
  }

  function insertName(card, index) {
    const area = card.querySelector('[data-field="text"]');
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? start;
    area.setRangeText("{display_name}", start, end, "end");
    items[index].text = area.value;
    fresh.delete(items[index]);
    refreshChecks(card);
    write();
    area.focus();
  }

  function onChange(event) {
    if (event.target.dataset.field === "file") upload(event.target);
  }

  function showUpload(card, text, failed) {
    const line = card.querySelector("[data-upload-status]");
    line.textContent = text;
    line.classList.toggle("errornote", Boolean(failed));
  }

  function upload(fileInput) {
    const card = fileInput.closest(".composer-card");
    const item = items[Number(card.dataset.index)];
    const file = fileInput.files[0];
    if (!file) return;
    if (file.size > LIMITS.upload_bytes) {
      showUpload(card, S.too_big, true);
      fileInput.value = "";
      return;
    }
    const current = () => cards.querySelector(`[data-index="${items.indexOf(item)}"]`) || card;
    const body = new FormData();
    body.append("file", file);
    if (channel && channel.value) body.append("channel", channel.value);
    showUpload(card, S.uploading, false);
    fetch(config.upload_url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf.value, Accept: "application/json" },
    })
      .then((response) => response.json().catch(() => ({ error: S.upload_failed })))
      .then((data) => {
        if (data.error || !data.url) {
          showUpload(current(), data.error || S.upload_failed, true);
          current().querySelector('[data-field="file"]').value = "";
          return;
        }
        const index = items.indexOf(item); // the card may have moved meanwhile
        if (index < 0) return; // …or been removed
        item.url = data.url;
        item.preview_url = data.preview_url;
        write();
        render();
        const again = cards.querySelector(`[data-index="${index}"]`);
        showUpload(again, S.uploaded, false);
        again.querySelector('[data-field="file"]').focus();
      })
      .catch(() => showUpload(current(), S.upload_failed, true));
  }

  cards.addEventListener("input", onInput);
  cards.addEventListener("change", onChange);
  root.addEventListener("click", onClick);

  // The JSON, edited by hand: the cards follow it while they can show it faithfully.
  function readInput() {
    const parsed = parse(input.value);
    $("#composer-body").disabled = !parsed;
    notice.hidden = Boolean(parsed);
    if (parsed) {
      items = parsed;
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

  // Errors the server found in the messages are shown above the cards too.
  const row = input.closest(".form-row");
  const errors = row ? [...row.querySelectorAll(".errorlist li")].map((li) => li.textContent) : [];
  const errorBox = $("#composer-errors");
  errorBox.replaceChildren(...errors.map((text) => el("li", { text })));
  errorBox.hidden = errors.length === 0;

  // Move the form's JSON row behind the toggle (it stays inside the form and is submitted).
  advanced.append(row || input);
  addBar.replaceChildren(...config.kinds.map((kind) =>
    el("button", { type: "button", class: "button", "data-action": "add", "data-kind": kind.type, "data-testid": `add-${kind.type}`, text: fmt(S.add, { kind: kind.label }) })));
  $("#composer-full").textContent = fmt(S.full, { max: LIMITS.items });
  root.hidden = false;
  showAdvanced(!readInput());
})();
