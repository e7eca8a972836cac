// Phone simulator: text the bot as a test number, see its TwiML replies and
// the messages it sends later (staff replies, alerts) on the same phone.
(function () {
  "use strict";
  var thread = document.getElementById("thread");
  var form = document.getElementById("sim-composer");
  var input = document.getElementById("sim-message");
  var lineSelect = document.getElementById("line");
  var languageSelect = document.getElementById("language");
  var status = document.getElementById("sim-status");
  var channelName = document.getElementById("phone-channel");
  var seen = {};
  var last = null;
  var generation = 0;  // answers for a phone the page has switched away from are dropped

  function phone() {
    var channel = document.querySelector("input[name=channel]:checked").value;
    return { line: parseInt(lineSelect.value, 10), channel: channel };
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function meta(entry) {
    var who = { "in": "You", reply: "Bot reply (TwiML)", api: "Sent later through the queue (Twilio API)" }[entry.kind];
    if (entry.kind === "in") { return who; }
    return who + " · " + entry.encoding + ", " + plural(entry.units, entry.encoding === "GSM-7" ? "character" : "unit")
      + " · " + plural(entry.segments, "SMS segment");
  }

  // Redis stream ids ("1733560000000-3") grow: compare time, then sequence.
  function later(a, b) {
    var x = a.split("-").map(Number);
    var y = b.split("-").map(Number);
    return x[0] > y[0] || (x[0] === y[0] && x[1] > y[1]);
  }

  function add(entry) {
    if (entry.id && seen[entry.id]) { return; }
    if (entry.id) {
      seen[entry.id] = true;
      if (!last || later(entry.id, last)) { last = entry.id; }
    }
    var item = document.createElement("li");
    item.className = entry.kind;
    item.setAttribute("data-id", entry.id);
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.dir = "auto";
    window.kyrFormat.fill(bubble, entry.text, languageSelect.value);
    var info = document.createElement("p");
    info.className = "meta";
    info.textContent = meta(entry);
    item.appendChild(bubble);
    item.appendChild(info);
    thread.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function reset() {
    generation += 1;
    seen = {};
    last = null;
    thread.textContent = "";
    status.textContent = "";
    channelName.textContent = phone().channel === "whatsapp" ? "WhatsApp" : "SMS";
    poll();
  }

  function poll() {
    var current = phone();
    var mine = generation;
    var query = "line=" + current.line + "&channel=" + current.channel + (last ? "&after=" + encodeURIComponent(last) : "");
    return fetch("/simulator/api/messages?" + query, { cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && mine === generation) { data.entries.forEach(add); }
      })
      .catch(function () { /* the next tick tries again */ });
  }

  function send(text) {
    var current = phone();
    var mine = generation;
    status.textContent = "";
    return fetch("/simulator/api/send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ line: current.line, channel: current.channel, text: text })
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || "HTTP " + response.status); }
        if (mine === generation) { data.entries.forEach(add); }
      });
    }).catch(function (error) { status.textContent = "Not sent: " + error.message; });
  }

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
  document.querySelectorAll("button.example").forEach(function (button) {
    button.addEventListener("click", function () { send(button.textContent.trim()); });
  });
  languageSelect.addEventListener("change", function () {
    document.querySelectorAll("ul.examples").forEach(function (list) {
      list.hidden = list.getAttribute("data-lang") !== languageSelect.value;
    });
  });
  lineSelect.addEventListener("change", reset);
  document.querySelectorAll("input[name=channel]").forEach(function (radio) { radio.addEventListener("change", reset); });
  document.getElementById("clear").addEventListener("click", function () {
    var current = phone();
    fetch("/simulator/api/clear", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(current)
    }).then(reset);
  });
  window.setInterval(function () { if (!document.hidden) { poll(); } }, 2000);
  reset();
})();
