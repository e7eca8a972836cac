// Staff console: refresh the queue and the open conversation every few seconds
// (the server renders the HTML; this only swaps it in when it changed).
(function () {
  "use strict";
  var INTERVAL = 3000;

  function poll(element, apply) {
    var url = element.getAttribute("data-poll");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); return null; }
          return response.ok ? response.json() : null;
        })
        .then(function (data) { if (data) { apply(data); } })
        .catch(function () { /* offline for a moment: try again next tick */ })
        .then(function () { window.setTimeout(tick, INTERVAL); });
    }
    window.setTimeout(tick, INTERVAL);
  }

  function swap(element, html) {
    if (element.getAttribute("data-html") !== html) {
      element.setAttribute("data-html", html);
      element.innerHTML = html;
    }
  }

  var queue = document.getElementById("queue");
  if (queue) {
    poll(queue, function (data) {
      swap(queue, data.html);
      var count = document.getElementById("waiting-count");
      if (count) { count.textContent = String(data.waiting); }
    });
  }

  var status = document.getElementById("status");
  var transcript = document.getElementById("transcript");
  if (status && transcript) {
    poll(status, function (data) {
      var atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
      swap(transcript, data.html);
      swap(status, data.status);
      if (atBottom) { transcript.lastElementChild && transcript.lastElementChild.scrollIntoView({ block: "end" }); }
    });
  }
})();
