// Web chat client: posts to /api/chat and shows the replies.
// The session token lives in sessionStorage only (gone when the tab closes).
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var RTL = { ar: true };
  var pageLang = document.body.getAttribute("data-lang") || "en";

  // Who said it, for screen readers (the bubbles' colours say it to everyone else).
  var SPEAKER = { me: "You:", bot: "Bot:", "bot staff": "Hotline staff:", "bot error": "Error:" };

  function show(text, who, lang) {
    var item = document.createElement("li");
    item.className = who;
    item.setAttribute("data-speaker", SPEAKER[who] || "");  // read out by chat.css (::before)
    // Links and numbers tappable, long answers (MORE) as short paragraphs: chat-format.js.
    window.kyrFormat.fill(item, text, lang);
    if (lang) { item.lang = lang; item.dir = RTL[lang] ? "rtl" : "ltr"; }
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function send(text) {
    show(text, "me");
    var body = { message: text, session: sessionStorage.getItem("kyr-session"), lang: pageLang };
    return fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || "Request failed"); }
        sessionStorage.setItem("kyr-session", data.session);
        document.documentElement.lang = data.lang;
        document.documentElement.dir = RTL[data.lang] ? "rtl" : "ltr";
        data.replies.forEach(function (reply) { show(reply, "bot", data.lang); });
      });
    }).catch(function (error) {
      show("Could not reach the bot. For urgent help call your local rapid-response hotline. (" + error.message + ")", "bot error");
    });
  }

  // Replies from hotline staff (after a handoff) arrive through a small outbox.
  function pollUpdates() {
    var session = sessionStorage.getItem("kyr-session");
    if (!session || document.hidden) { return; }
    var after = sessionStorage.getItem("kyr-after") || "0";
    // The token goes in a header, never in the URL (URLs end up in proxy logs).
    fetch("/api/chat/updates?after=" + encodeURIComponent(after), {
      headers: { "Authorization": "Bearer " + session },
      cache: "no-store"
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        sessionStorage.setItem("kyr-after", String(data.last));
        data.messages.forEach(function (text) { show(text, "bot staff", document.documentElement.lang); });
      })
      .catch(function () { /* try again on the next tick */ });
  }
  window.setInterval(pollUpdates, 4000);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  document.querySelectorAll(".lang").forEach(function (button) {
    button.addEventListener("click", function () { send(button.getAttribute("data-word")); });
  });
})();
