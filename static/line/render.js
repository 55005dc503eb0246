/* LINE message JSON → DOM, as the LINE app shows it. Plain JS, no build step.
 *
 * Shared by the simulator's chat page (static/simulator/chat.js) and the builder's live
 * preview (static/builder/builder.js), so both draw exactly the messages that
 * delivery/rendering.py makes for the webhook. Everything from the server goes into the
 * DOM with textContent, never as HTML.
 *
 *   LineRender.renderMessage(message, { onAction, baseUrl })  → element
 *   LineRender.renderQuickReplies(message, { onAction })      → [button…]
 *   LineRender.actionButton(action, attrs, onAction)           → <button>
 *   LineRender.el / textBubble / imageBubble / locationBubble  (small helpers)
 *
 * ``onAction(action)`` is called when a button, quick reply or tappable area is used.
 */
(() => {
  "use strict";

  const FLEX_SIZES = { xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74 };
  const FLEX_SPACING = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };

  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key === "style") Object.assign(node.style, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of [].concat(children)) if (child) node.append(child);
    return node;
  }

  function actionButton(action, attrs = {}, onAction = () => {}) {
    return el("button", { type: "button", text: action.label || action.type, ...attrs, onclick: () => onAction(action) });
  }

  // --- simple messages ----------------------------------------------------------------

  function textBubble(text) {
    return el("div", { class: "bubble", text });
  }

  function imageBubble(url, alt) {
    return el("div", { class: "bubble media" }, el("img", { src: url, alt: alt || "画像", loading: "lazy" }));
  }

  function locationBubble(message) {
    return el("div", { class: "bubble location-card" }, [
      el("strong", { text: `📍 ${message.title || "位置情報"}` }),
      message.address ? el("span", { text: message.address }) : null,
      el("small", { text: `${message.latitude}, ${message.longitude}` }),
    ]);
  }

  function renderMessage(message, ctx = {}) {
    const context = { onAction: ctx.onAction || (() => {}) };
    switch (message.type) {
      case "text":
      case "textV2":
        return textBubble(message.text);
      case "image":
        return imageBubble(message.previewImageUrl || message.originalContentUrl);
      case "video":
        return el("div", { class: "bubble media" }, el("video", { src: message.originalContentUrl, poster: message.previewImageUrl, controls: "" }));
      case "audio":
        return el("div", { class: "bubble" }, el("audio", { src: message.originalContentUrl, controls: "" }));
      case "location":
        return locationBubble(message);
      case "sticker":
        return el("div", { class: "bubble note", text: "［スタンプ］" });
      case "imagemap":
        return imageBubble(`${message.baseUrl}/1040`, message.altText);
      case "template":
        return renderTemplate(message.template, context);
      case "flex":
        return renderFlexContainer(message.contents, context);
      default:
        return el("div", { class: "bubble note", text: `［${message.type}］` });
    }
  }

  function renderQuickReplies(message, ctx = {}) {
    const items = message && message.quickReply ? message.quickReply.items : [];
    return items.map((item) => {
      const button = actionButton(item.action, { "data-testid": "quick-reply", "data-action-type": item.action.type }, ctx.onAction);
      if (item.imageUrl) button.prepend(el("img", { src: item.imageUrl, alt: "" }));
      return button;
    });
  }

  // --- templates -------------------------------------------------------------------

  function templateCard(column, actions, ctx, rowActions = false) {
    return el("div", { class: "card" }, [
      column.thumbnailImageUrl ? el("img", { class: "flex-image", src: column.thumbnailImageUrl, alt: "" }) : null,
      el("div", { class: "card-body" }, [
        column.title ? el("div", { class: "card-title", text: column.title }) : null,
        el("div", { text: column.text }),
      ]),
      el("div", { class: rowActions ? "card-actions row" : "card-actions" },
        (actions || []).map((action) => actionButton(action, { "data-testid": "template-button" }, ctx.onAction))),
    ]);
  }

  function renderTemplate(template, ctx) {
    switch (template.type) {
      case "buttons":
        return templateCard(template, template.actions, ctx);
      case "confirm":
        return templateCard({ text: template.text }, template.actions, ctx, true);
      case "carousel":
        return el("div", { class: "carousel" }, template.columns.map((column) => templateCard(column, column.actions, ctx)));
      case "image_carousel":
        return el("div", { class: "carousel" }, template.columns.map((column) => el("div", { class: "card" }, [
          el("img", { class: "flex-image", src: column.imageUrl, alt: "" }),
          el("div", { class: "card-actions" }, column.action ? actionButton(column.action, { "data-testid": "template-button" }, ctx.onAction) : null),
        ])));
      default:
        return el("div", { class: "bubble note", text: "［テンプレート］" });
    }
  }

  // --- flex ------------------------------------------------------------------------

  function px(value, table) {
    if (value === undefined) return undefined;
    if (typeof value === "string" && value.endsWith("px")) return value;
    if (table && value in table) return `${table[value]}px`;
    return value;
  }

  function applyCommon(node, component, parentLayout, ctx) {
    const style = node.style;
    const flex = component.flex !== undefined ? component.flex : (parentLayout === "vertical" ? undefined : 1);
    if (flex !== undefined) style.flex = `${flex} ${flex === 0 ? 0 : 1} ${flex === 0 ? "auto" : "0px"}`;
    if (component.margin && parentLayout) {
      style[parentLayout === "vertical" ? "marginTop" : "marginLeft"] = px(component.margin, FLEX_SPACING);
    }
    for (const key of ["paddingAll", "paddingTop", "paddingBottom", "paddingStart", "paddingEnd"]) {
      if (component[key] === undefined) continue;
      const value = px(component[key], FLEX_SPACING);
      const css = { paddingAll: "padding", paddingTop: "paddingTop", paddingBottom: "paddingBottom", paddingStart: "paddingLeft", paddingEnd: "paddingRight" }[key];
      style[css] = value;
    }
    if (component.backgroundColor) style.backgroundColor = component.backgroundColor;
    if (component.cornerRadius) style.borderRadius = px(component.cornerRadius, FLEX_SPACING);
    if (component.borderWidth) style.border = `${px(component.borderWidth, { light: 0.5, normal: 1, medium: 2, "semi-bold": 3, bold: 4 })} solid ${component.borderColor || "#000"}`;
    if (component.width) style.width = component.width;
    if (component.height) style.height = component.height;
    if (component.gravity) style.alignSelf = { top: "flex-start", bottom: "flex-end", center: "center" }[component.gravity];
    if (component.action && component.type !== "button") {
      node.classList.add("flex-tappable");
      node.setAttribute("role", "button");
      node.setAttribute("tabindex", "0");
      node.addEventListener("click", () => ctx.onAction(component.action));
    }
    return node;
  }

  function renderFlexText(component) {
    const node = el("div", { class: "flex-text" });
    if (Array.isArray(component.contents) && component.contents.length) {
      for (const span of component.contents) {
        node.append(el("span", { text: span.text, style: {
          color: span.color, fontWeight: span.weight === "bold" ? "bold" : undefined, fontSize: px(span.size, FLEX_SIZES),
        } }));
      }
    } else {
      node.textContent = component.text;
    }
    Object.assign(node.style, {
      fontSize: px(component.size || "md", FLEX_SIZES),
      fontWeight: component.weight === "bold" ? "bold" : "normal",
      color: component.color || "#111",
      textAlign: { start: "left", end: "right", center: "center" }[component.align] || undefined,
      whiteSpace: component.wrap ? "pre-wrap" : "nowrap",
      overflow: component.wrap ? undefined : "hidden",
      textOverflow: component.wrap ? undefined : "ellipsis",
      fontStyle: component.style === "italic" ? "italic" : undefined,
      textDecoration: component.decoration && component.decoration !== "none" ? component.decoration : undefined,
    });
    return node;
  }

  function renderFlexImage(component) {
    const [w, h] = (component.aspectRatio || "1:1").split(":").map(Number);
    const widths = { xxs: "40px", xs: "60px", sm: "80px", md: "100px", lg: "120px", xl: "140px", xxl: "160px", full: "100%" };
    return el("img", { class: "flex-image", src: component.url, alt: "", style: {
      aspectRatio: `${w} / ${h}`, objectFit: component.aspectMode === "fit" ? "contain" : "cover",
      width: widths[component.size || "md"] || component.size, alignSelf: "center",
    } });
  }

  function renderFlexComponent(component, parentLayout, ctx) {
    let node;
    switch (component.type) {
      case "box": {
        node = el("div", { class: `flex-box ${component.layout}` });
        if (component.spacing) node.style.gap = px(component.spacing, FLEX_SPACING);
        for (const child of component.contents || []) node.append(renderFlexComponent(child, component.layout, ctx));
        break;
      }
      case "text":
        node = renderFlexText(component);
        break;
      case "button": {
        const style = component.style || "link";
        node = actionButton(component.action, { class: `flex-button ${style}`, "data-testid": "flex-button" }, ctx.onAction);
        if (component.color) node.style[style === "link" ? "color" : "backgroundColor"] = component.color;
        if (component.height === "sm") node.style.padding = "6px";
        break;
      }
      case "image":
        node = renderFlexImage(component);
        break;
      case "icon":
        node = el("img", { class: "flex-icon", src: component.url, alt: "" });
        break;
      case "separator":
        node = el("hr", { class: "flex-separator", style: { borderTopColor: component.color } });
        break;
      case "filler":
        node = el("div", { class: "flex-filler" });
        break;
      default:
        node = el("div");
    }
    return applyCommon(node, component, parentLayout, ctx);
  }

  function renderFlexBubble(bubble, ctx) {
    const node = el("div", { class: `flex-bubble size-${bubble.size || "mega"}`, "data-testid": "flex-bubble" });
    const styles = bubble.styles || {};
    for (const block of ["header", "hero", "body", "footer"]) {
      if (!bubble[block]) continue;
      const wrapper = el("div", { class: `flex-block ${block}` }, renderFlexComponent(bubble[block], "vertical", ctx));
      if (styles[block] && styles[block].backgroundColor) wrapper.style.backgroundColor = styles[block].backgroundColor;
      if (styles[block] && styles[block].separator) wrapper.style.borderTop = `1px solid ${styles[block].separatorColor || "#ddd"}`;
      node.append(wrapper);
    }
    if (bubble.action) applyCommon(node, { action: bubble.action, flex: 0 }, null, ctx);
    return node;
  }

  function renderFlexContainer(container, ctx) {
    if (container.type === "carousel") {
      return el("div", { class: "carousel", "data-testid": "flex-carousel" }, container.contents.map((bubble) => renderFlexBubble(bubble, ctx)));
    }
    return renderFlexBubble(container, ctx);
  }

  window.LineRender = {
    el, actionButton, textBubble, imageBubble, locationBubble, renderMessage, renderQuickReplies,
  };
})();
