// The broadcast's LINE preview, drawn with the shared renderer (static/line/render.js).
// While the messages can be edited (adding or changing a draft) it follows the messages
// field as staff type: the JSON is posted (debounced) and the server answers with the
// very LINE message objects the sender will send ({display_name} as a sample name), or
// the reason they cannot be sent. Otherwise it shows the saved broadcast. Buttons do
// nothing here but say so. Every text comes from the page (translated). No dependencies.
(() => {
  "use strict";
  const box = document.getElementById("broadcast-preview");
  if (!box || !window.LineRender) return;
  const { el, renderMessage } = window.LineRender;
  const list = box.querySelector("ol.messages");
  const note = box.querySelector('[data-field="note"]');
  const error = box.querySelector('[data-field="error"]');
  const header = box.querySelector('[data-field="channel_name"]');
  const input = document.getElementById("id_messages");
  const channel = document.getElementById("id_channel");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  let timer = null;
  let latest = 0;

  function showError(text) {
    error.hidden = !text;
    error.textContent = text || "";
  }

  function show(data) {
    const onAction = () => { note.textContent = data.action_note; };
    const initial = (header.textContent || "").trim().slice(0, 1);
    list.replaceChildren(...data.messages.map((message) => el("li", { class: "message out", "data-testid": "preview-message" }, [
      el("span", { class: "avatar", "aria-hidden": "true", text: initial }),
      el("div", { class: "message-body" }, renderMessage(message, { onAction })),
    ])));
    note.textContent = data.note;
    showError("");
  }

  function showSaved() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => response.json())
      .then(show)
      .catch(() => { note.textContent = ""; });
  }

  function refresh() {
    const text = input.value.trim();
    if (!text || text === "[]") {
      list.replaceChildren();
      note.textContent = "";
      showError(box.dataset.empty);
      return;
    }
    try {
      JSON.parse(text);
    } catch (problem) {
      showError(box.dataset.invalidJson); // keep the last good preview in view
      return;
    }
    const request = ++latest;
    fetch(box.dataset.liveUrl, {
      method: "POST",
      credentials: "same-origin",
      body: text,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf.value },
    })
      .then((response) => response.json())
      .then((data) => {
        if (request !== latest) return; // an older answer arriving late
        if (data.error) showError(data.error);
        else show(data);
      })
      .catch(() => {});
  }

  const namesNode = document.getElementById("broadcast-channel-names");
  const channelNames = namesNode ? JSON.parse(namesNode.textContent) : {};

  function showChannel() {
    if (channel && channelNames[channel.value]) header.textContent = channelNames[channel.value];
  }

  if (box.dataset.liveUrl && input) {
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 300); });
    if (channel) channel.addEventListener("change", () => { showChannel(); refresh(); });
    showChannel();
    refresh();
  } else if (box.dataset.url) {
    showSaved();
  }
})();
