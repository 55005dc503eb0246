/* The LINE simulator's chat page. Plain JS, no build step.
 *
 * It polls /simulator/api/chat/<channel>/<user>/ for new transcript entries and sends what
 * the resident does through /simulator/api/say/, which POSTs signed webhooks to the
 * product. Messages are drawn by the shared LINE renderer (static/line/render.js, also
 * used by the builder's preview). Everything from the server is put into the DOM with
 * textContent, never HTML. ``?channel=<id>&user=<id>`` opens the page on that chat.
 */
(() => {
  "use strict";

  const BASE = document.body.dataset.base || "/simulator/";
  const POLL_MS = 1500;
  const PRESET_PLACES = [
    { title: "市役所", address: "東京都新宿区西新宿2-8-1", latitude: 35.689487, longitude: 139.691706 },
    { title: "駅前", address: "東京都新宿区新宿3-38-1", latitude: 35.690921, longitude: 139.700258 },
    { title: "中央公園", address: "東京都新宿区西新宿2-11", latitude: 35.689771, longitude: 139.686849 },
  ];
  const LineRender = window.LineRender;
  const { el, textBubble, imageBubble, locationBubble } = LineRender;

  const $ = (id) => document.getElementById(id);
  const state = {
    channelId: "", userId: "", channel: null, lastId: 0, lastEntry: null,
    richMenuId: null, polling: false, picker: null,
  };

  // --- small helpers ---------------------------------------------------------

  async function request(method, url, body) {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(BASE + url, options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  function timeOf(iso) {
    return new Date(iso).toLocaleTimeString("ja-JP", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tokyo" });
  }

  function showStatus(text) {
    $("webhook-status").textContent = text;
  }

  // --- sending what the resident does ------------------------------------------

  async function say(payload) {
    if (!state.channelId || !state.userId) {
      showStatus("チャネルと住民を選んでください");
      return;
    }
    try {
      const result = await request("POST", "api/say/", { channel_id: state.channelId, user_id: state.userId, ...payload });
      showStatus(result.webhook_status
        ? `Webhook 送信: HTTP ${result.webhook_status}`
        : `Webhook 未送信: ${result.webhook_error || "不明"}`);
    } catch (error) {
      showStatus(`送信できませんでした: ${error.message}`);
    }
    poll();
  }

  function runAction(action) {
    if (!action) return;
    switch (action.type) {
      case "message":
        say({ text: action.text });
        break;
      case "postback":
        say({ postback: { data: action.data }, display_text: action.displayText || action.text || "" });
        break;
      case "datetimepicker":
        openDatetimePicker(action);
        break;
      case "camera":
      case "cameraRoll":
        $("file-input").click();
        break;
      case "location":
        $("location-dialog").showModal();
        break;
      case "richmenuswitch":
        say({ richmenuswitch: { richMenuAliasId: action.richMenuAliasId, data: action.data } });
        break;
      case "uri":
        window.open(action.uri, "_blank", "noopener");
        break;
      case "clipboard":
        if (navigator.clipboard) navigator.clipboard.writeText(action.clipboardText);
        showStatus("クリップボードにコピーしました");
        break;
      default:
        showStatus(`未対応のアクション: ${action.type}`);
    }
  }

  // --- pickers ---------------------------------------------------------------

  const PICKER_TYPES = { date: "date", time: "time", datetime: "datetime-local" };
  const PICKER_LABELS = { date: "日付を選んでください", time: "時刻を選んでください", datetime: "日時を選んでください" };

  function openDatetimePicker(action) {
    const input = $("datetime-input");
    input.type = PICKER_TYPES[action.mode] || "date";
    input.value = action.initial || "";
    input.min = action.min || "";
    input.max = action.max || "";
    $("datetime-label").textContent = PICKER_LABELS[action.mode] || PICKER_LABELS.date;
    state.picker = action;
    $("datetime-dialog").showModal();
  }

  function submitDatetime(event) {
    event.preventDefault();
    const action = state.picker;
    const value = $("datetime-input").value;
    if (!action || !value) return;
    $("datetime-dialog").close();
    say({ postback: { data: action.data, params: { [action.mode]: value } } });
  }

  function buildLocationPresets() {
    const list = $("location-presets");
    for (const place of PRESET_PLACES) {
      list.append(el("li", {}, el("button", {
        type: "button", "data-testid": "location-preset", text: `${place.title}（${place.address}）`,
        onclick: () => {
          $("location-dialog").close();
          say({ location: place });
        },
      })));
    }
  }

  function submitLocation(event) {
    event.preventDefault();
    const latitude = parseFloat($("location-lat").value);
    const longitude = parseFloat($("location-lng").value);
    if (Number.isNaN(latitude) || Number.isNaN(longitude)) return;
    $("location-dialog").close();
    say({ location: { latitude, longitude, address: $("location-address").value } });
  }

  function sendFile() {
    const file = $("file-input").files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => say({ image: reader.result });
    reader.readAsDataURL(file);
    $("file-input").value = "";
  }

  // --- rendering messages (the shared LINE renderer draws what the bot sent) -------

  function renderOutMessage(message) {
    return LineRender.renderMessage(message, { onAction: runAction });
  }

  function renderInEvent(event, displayText) {
    if (event.type === "message") {
      const message = event.message;
      if (message.type === "text") return textBubble(message.text);
      if (message.type === "image") return imageBubble(`${BASE}content/${message.id}`, "送信した写真");
      if (message.type === "location") return locationBubble(message);
      return el("div", { class: "bubble note", text: `［${message.type}］` });
    }
    if (event.type === "postback") {
      if (displayText) return textBubble(displayText);
      const params = event.postback.params ? Object.values(event.postback.params).join(" ") : "";
      return el("div", { class: "bubble note", text: params ? `🗓 ${params}` : `（ポストバック: ${event.postback.data}）` });
    }
    return null;
  }

  function systemNote(entry) {
    const notes = { follow: "友だち追加しました", unfollow: "ブロックしました" };
    const text = notes[entry.message.type];
    return text ? el("li", { class: "system-note", "data-testid": "system-note", "data-entry-id": entry.id, text }) : null;
  }

  function renderEntry(entry) {
    if (entry.direction === "in" && entry.message.type !== "message" && entry.message.type !== "postback") {
      return systemNote(entry);
    }
    const content = entry.direction === "out"
      ? renderOutMessage(entry.message)
      : renderInEvent(entry.message, entry.display_text);
    if (!content) return null;
    const name = state.channel ? state.channel.name : "";
    const body = el("div", { class: "message-body" }, [
      entry.direction === "out" ? el("span", { class: "sender", text: name }) : null,
      el("div", { class: "bubble-row" }, [content, el("time", { class: "time", datetime: entry.at, text: timeOf(entry.at) })]),
    ]);
    return el("li", {
      class: `message ${entry.direction}`, "data-testid": "message", "data-direction": entry.direction,
      "data-entry-id": entry.id,
    }, [entry.direction === "out" ? el("span", { class: "avatar", "aria-hidden": "true", text: name.slice(0, 1) || "公" }) : null, body]);
  }

  // --- quick replies and the rich menu -----------------------------------------------

  function renderQuickReplies() {
    const bar = $("quick-reply-bar");
    bar.replaceChildren();
    const entry = state.lastEntry;
    const items = entry && entry.direction === "out" && entry.message.quickReply ? entry.message.quickReply.items : [];
    if (items.length) bar.append(...LineRender.renderQuickReplies(entry.message, { onAction: runAction }));
    bar.hidden = items.length === 0;
  }

  function renderRichMenu(menu) {
    const section = $("richmenu");
    if (!menu) {
      section.hidden = true;
      state.richMenuId = null;
      return;
    }
    if (menu.richMenuId === state.richMenuId) return;
    const firstShown = state.richMenuId === null;
    state.richMenuId = menu.richMenuId;
    const image = $("richmenu-image");
    image.replaceChildren();
    image.style.backgroundImage = `url("${menu.imageUrl}")`;
    image.style.paddingTop = `${(menu.size.height / menu.size.width) * 100}%`;
    for (const area of menu.areas) {
      const b = area.bounds;
      image.append(el("button", {
        type: "button", class: "richmenu-area", "data-testid": "richmenu-area",
        "aria-label": area.action.label || area.action.displayText || area.action.text || area.action.type,
        style: {
          left: `${(b.x / menu.size.width) * 100}%`, top: `${(b.y / menu.size.height) * 100}%`,
          width: `${(b.width / menu.size.width) * 100}%`, height: `${(b.height / menu.size.height) * 100}%`,
        },
        onclick: () => runAction(area.action),
      }));
    }
    $("richmenu-toggle").textContent = `${menu.chatBarText} ▾`;
    if (firstShown) setRichMenuOpen(Boolean(menu.selected));
    section.hidden = false;
  }

  function setRichMenuOpen(open) {
    $("richmenu").classList.toggle("collapsed", !open);
    $("richmenu-toggle").setAttribute("aria-expanded", String(open));
  }

  // --- polling -----------------------------------------------------------------------

  async function poll() {
    if (!state.channelId || !state.userId || state.polling) return;
    state.polling = true;
    const asked = `${state.channelId}/${state.userId}`;
    try {
      const data = await request("GET", `api/chat/${state.channelId}/${state.userId}/?after=${state.lastId}`);
      if (asked !== `${state.channelId}/${state.userId}`) return;
      state.channel = data.channel;
      $("chat-title").textContent = data.channel.name;
      const list = $("message-list");
      for (const entry of data.entries) {
        const node = renderEntry(entry);
        if (node) list.append(node);
        state.lastId = entry.id;
        state.lastEntry = entry;
      }
      if (data.entries.length) list.scrollTop = list.scrollHeight;
      renderQuickReplies();
      renderRichMenu(data.rich_menu);
      renderFriendship(data.friendship);
      $("loading-indicator").hidden = !data.loading;
    } catch (error) {
      showStatus(`更新できませんでした: ${error.message}`);
    } finally {
      state.polling = false;
    }
  }

  function renderFriendship(status) {
    const labels = { friend: "友だち", blocked: "ブロック中" };
    $("friendship-status").textContent = labels[status] || "未追加";
    $("composer").classList.toggle("disabled", status === "blocked");
    $("follow-button").disabled = status === "friend";
    $("unfollow-button").disabled = status !== "friend";
  }

  function selectChat() {
    state.channelId = $("channel-select").value;
    state.userId = $("user-select").value;
    state.lastId = 0;
    state.lastEntry = null;
    state.richMenuId = null;
    $("message-list").replaceChildren();
    renderRichMenu(null);
    localStorage.setItem("simulator.chat", JSON.stringify({ channel: state.channelId, user: state.userId }));
    poll();
  }

  async function createUser() {
    const name = $("new-user-name").value.trim();
    if (!name) {
      $("new-user-name").focus();
      return;
    }
    try {
      const user = await request("POST", "api/users/", { display_name: name, language: $("new-user-language").value });
      $("user-select").append(el("option", { value: user.user_id, text: user.display_name }));
      $("user-select").value = user.user_id;
      $("new-user-name").value = "";
      selectChat();
    } catch (error) {
      showStatus(`住民を追加できませんでした: ${error.message}`);
    }
  }

  function restoreSelection() {
    // A link such as the builder's Try it names the chat to open; else the last one used.
    const params = new URLSearchParams(window.location.search);
    const saved = params.get("channel") || params.get("user")
      ? { channel: params.get("channel"), user: params.get("user") }
      : JSON.parse(localStorage.getItem("simulator.chat") || "{}");
    for (const [id, value] of [["channel-select", saved.channel], ["user-select", saved.user]]) {
      if (value && [...$(id).options].some((option) => option.value === value)) $(id).value = value;
    }
  }

  function init() {
    buildLocationPresets();
    restoreSelection();
    $("channel-select").addEventListener("change", selectChat);
    $("user-select").addEventListener("change", selectChat);
    $("create-user").addEventListener("click", createUser);
    $("follow-button").addEventListener("click", () => say({ follow: true }));
    $("unfollow-button").addEventListener("click", () => say({ unfollow: true }));
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("text-input").value;
      if (!text.trim()) return;
      $("text-input").value = "";
      say({ text });
    });
    $("camera-button").addEventListener("click", () => $("file-input").click());
    $("file-input").addEventListener("change", sendFile);
    $("location-button").addEventListener("click", () => $("location-dialog").showModal());
    $("location-form").addEventListener("submit", submitLocation);
    $("location-cancel").addEventListener("click", () => $("location-dialog").close());
    $("datetime-form").addEventListener("submit", submitDatetime);
    $("datetime-cancel").addEventListener("click", () => $("datetime-dialog").close());
    $("richmenu-toggle").addEventListener("click", () => setRichMenuOpen($("richmenu").classList.contains("collapsed")));
    selectChat();
    setInterval(poll, POLL_MS);
  }

  init();
})();
