// Know Your Rights chat bubble. Paste on your site:
//   <script src="{{ embed_url | replace('/embed', '/embed.js') }}" defer></script>
// The chat runs in an iframe served by the bot (allowed only for ALLOWED_ORIGINS),
// so nothing about the conversation touches your page.
(function () {
  "use strict";
  if (window.__kyrChatLoaded) { return; }
  window.__kyrChatLoaded = true;
  var lang = (navigator.language || "en").slice(0, 2).toLowerCase();
  var button = document.createElement("button");
  button.type = "button";
  button.id = "kyr-chat-button";
  button.setAttribute("aria-label", "Know your rights: chat");
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "kyr-chat-frame");
  button.textContent = "?";
  button.style.cssText = "position:fixed;bottom:16px;right:16px;width:56px;height:56px;border-radius:50%;" +
    "border:0;background:#1d4ed8;color:#fff;font:bold 24px system-ui,sans-serif;cursor:pointer;" +
    "box-shadow:0 2px 8px rgba(0,0,0,.3);z-index:2147483000";
  var frame = document.createElement("iframe");
  frame.id = "kyr-chat-frame";
  frame.title = "Know your rights chat";
  frame.src = {{ embed_url | tojson }} + "?lang=" + encodeURIComponent(lang);
  frame.hidden = true;
  frame.style.cssText = "position:fixed;bottom:84px;right:16px;width:min(380px,calc(100vw - 32px));" +
    "height:min(560px,calc(100vh - 110px));border:1px solid #ccc;border-radius:12px;background:#fff;" +
    "box-shadow:0 4px 16px rgba(0,0,0,.25);z-index:2147483000";
  button.addEventListener("click", function () {
    frame.hidden = !frame.hidden;
    button.setAttribute("aria-expanded", String(!frame.hidden));
    button.textContent = frame.hidden ? "?" : "\u00d7";
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !frame.hidden) { button.click(); button.focus(); }
  });
  function mount() { document.body.appendChild(frame); document.body.appendChild(button); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
