// The broadcast's LINE preview: fetches the rendered messages (the JSON the sender will
// send, a sample name for {display_name}) and draws them with the shared renderer
// (static/line/render.js). Buttons do nothing here but say so. No dependencies.
(() => {
  "use strict";
  const box = document.getElementById("broadcast-preview");
  if (!box || !window.LineRender) return;
  const { el, renderMessage } = window.LineRender;
  const list = box.querySelector("ol.messages");
  const note = box.querySelector('[data-field="note"]');
  const header = box.querySelector('[data-field="channel_name"]');

  function show(data) {
    const onAction = () => { note.textContent = data.action_note; };
    const initial = (header.textContent || "").trim().slice(0, 1);
    list.replaceChildren(...data.messages.map((message) => el("li", { class: "message out", "data-testid": "preview-message" }, [
      el("span", { class: "avatar", "aria-hidden": "true", text: initial }),
      el("div", { class: "message-body" }, renderMessage(message, { onAction })),
    ])));
    note.textContent = data.note;
  }

  fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => response.json())
    .then(show)
    .catch(() => { note.textContent = ""; });
})();
