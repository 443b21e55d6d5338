// Rich bot messages as DOM, shared by the console's test chat and the chat widget.
// parleyRender(message, onPostback) -> element; a button click calls onPostback(value, title).
"use strict";
(function () {
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function buttons(list, onPostback) {
    const row = el("div", "parley-buttons");
    for (const button of list || []) {
      const kind = String(button.type || "postback").toLowerCase();
      const url = button.url || (kind === "web_url" || kind === "link" ? button.value : null);
      const node = url ? el("a", "parley-button", button.title) : el("button", "parley-button", button.title);
      if (url) {
        node.href = url;
        node.target = "_blank";
        node.rel = "noopener";
      } else {
        node.type = "button";
        node.onclick = () => onPostback(String(button.value ?? button.payload ?? button.title), button.title);
      }
      row.append(node);
    }
    return row;
  }

  function card(content, onPostback) {
    const box = el("div", "parley-card");
    if (content.image_url) {
      const img = el("img");
      img.src = content.image_url;
      img.alt = content.title || "";
      box.append(img);
    }
    if (content.title) box.append(el("strong", null, content.title));
    if (content.subtitle) box.append(el("p", null, content.subtitle));
    if (content.buttons && content.buttons.length) box.append(buttons(content.buttons, onPostback));
    return box;
  }

  function media(message) {
    const url = typeof message.content === "string" ? message.content : (message.content || {}).url;
    if (message.type === "image") {
      const img = el("img", "parley-image");
      img.src = url;
      img.alt = "image";
      return img;
    }
    const link = el("a", "parley-link", `${message.type}: ${url}`);
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    return link;
  }

  window.parleyRender = function (message, onPostback) {
    const box = el("div", `parley-msg parley-${message.type}`);
    const content = message.content;
    switch (message.type) {
      case "text":
        box.textContent = String(content);
        break;
      case "buttons":
      case "quick_replies":
        if (content.title || content.text) box.append(el("p", null, content.title || content.text));
        box.append(buttons(content.buttons, onPostback));
        break;
      case "card":
        box.append(card(content, onPostback));
        break;
      case "carousel":
      case "list": {
        const strip = el("div", "parley-carousel");
        for (const item of Array.isArray(content) ? content : []) strip.append(card(item, onPostback));
        box.append(strip);
        break;
      }
      case "image":
      case "video":
      case "file":
        box.append(media(message));
        break;
      default:
        box.append(el("pre", null, JSON.stringify(content, null, 2)));
    }
    return box;
  };
})();
