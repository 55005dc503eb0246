/* The catalog's LINE preview: each step of a template version as residents see it.
 * The server renders the messages with the same renderer the webhook uses; this only
 * draws them with the shared static/line/render.js. */
(() => {
  "use strict";

  const data = JSON.parse(document.getElementById("catalog-previews").textContent);
  const root = document.getElementById("line-preview");
  const { el, renderMessage, renderQuickReplies } = window.LineRender;
  if (!root || !data.steps.length) return;

  const select = document.getElementById("preview-step");
  const list = root.querySelector(".messages");
  const quick = root.querySelector(".quick-replies");
  const noop = () => {};

  function show(index) {
    const messages = data.steps[index].messages;
    list.replaceChildren(...messages.map((message) => el("li", { class: "message out" }, [
      el("span", { class: "avatar", "aria-hidden": "true", text: data.initial }),
      el("div", { class: "message-body" }, renderMessage(message, { onAction: noop })),
    ])));
    quick.replaceChildren(...renderQuickReplies(messages[messages.length - 1], { onAction: noop }));
    quick.hidden = !quick.childElementCount;
  }

  data.steps.forEach((step, index) => select.append(el("option", { value: index, text: step.label })));
  select.addEventListener("change", () => show(Number(select.value)));
  root.hidden = false;
  show(0);
})();
