// Broadcasts: a live segment counter and reach while composing, and live progress
// after sending. The server counts (footer, GSM-7 folding); this only shows it.
(function () {
  "use strict";
  var DEBOUNCE = 400;
  var POLL = 3000;

  function plural(count, word) { return count + " " + word + (count === 1 ? "" : "s"); }

  function setText(element, text, isError) {
    if (!element) { return; }
    element.textContent = text;
    element.classList.toggle("error", Boolean(isError));
  }

  // -- compose ------------------------------------------------------------------
  var form = document.getElementById("broadcast-form");
  if (form) {
    var url = form.getAttribute("data-preview");
    var token = form.querySelector("input[name=csrf_token]").value;
    var counters = form.querySelectorAll("output.counter");
    var reach = document.getElementById("reach");
    var timer = null;
    var latest = 0;

    var show = function (data) {
      Array.prototype.forEach.call(counters, function (output) {
        var lang = output.getAttribute("data-lang");
        var count = data.segments && data.segments[lang];
        if (count) {
          var people = (data.reach_by_language && data.reach_by_language[lang]) || 0;
          setText(output, plural(count.segments, "SMS segment") + " (" + count.encoding + ", " +
            count.units + " units, footer included) · reaches " + plural(people, "subscriber"), false);
        } else if (data.without_text && data.without_text[lang]) {
          setText(output, plural(data.without_text[lang], "subscriber") + " skipped: no text in this language", true);
        } else {
          setText(output, "", false);
        }
      });
      var line = "Reaches " + plural(data.reach, "subscriber") + ".";
      if (data.skipped) { line += " " + plural(data.skipped, "subscriber") + " skipped: no text in their language."; }
      setText(reach, line, false);
    };

    var refresh = function () {
      var ticket = ++latest;
      fetch(url, {
        method: "POST", credentials: "same-origin", body: new FormData(form),
        headers: { Accept: "application/json", "X-CSRFToken": token }
      }).then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.json().catch(function () { return { error: "Preview unavailable (HTTP " + response.status + ")." }; });
      }).then(function (data) {
        if (!data || ticket !== latest) { return; }  // an older answer arriving late
        if (data.error) {
          Array.prototype.forEach.call(counters, function (output) { setText(output, "", false); });
          setText(reach, data.error, true);
        } else {
          show(data);
        }
      }).catch(function () { setText(reach, "Preview unavailable (offline?).", true); });
    };

    var schedule = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DEBOUNCE);
    };
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    refresh();
  }

  // -- progress -----------------------------------------------------------------
  var progress = document.getElementById("progress");
  if (progress) {
    var pollUrl = progress.getAttribute("data-poll");
    var bar = document.getElementById("progress-bar");
    var errors = document.getElementById("progress-errors");

    var apply = function (data) {
      progress.querySelector("[data-field=done]").textContent = String(data.done);
      progress.querySelector("[data-field=total]").textContent = String(data.total);
      progress.querySelector("[data-field=state]").textContent = data.finished ? "finished" : "sending…";
      bar.max = data.total || 1;
      bar.value = data.done;
      bar.textContent = data.done + " / " + data.total;
      Object.keys(data.counts).forEach(function (name) {
        var cell = progress.querySelector("[data-count=" + name + "]");
        if (cell) { cell.textContent = String(data.counts[name]); }
      });
      errors.textContent = "";
      if (!data.errors.length) {
        var none = document.createElement("li");
        none.className = "empty";
        none.textContent = "None so far.";
        errors.appendChild(none);
      }
      data.errors.forEach(function (error) {
        var item = document.createElement("li");
        var code = document.createElement("strong");
        code.textContent = error.code;
        item.appendChild(code);
        item.appendChild(document.createTextNode(": " + error.count + " — " + error.meaning));
        errors.appendChild(item);
      });
      progress.setAttribute("data-finished", data.finished ? "true" : "false");
    };

    var tick = function () {
      fetch(pollUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); return null; }
          return response.ok ? response.json() : null;
        })
        .then(function (data) { if (data) { apply(data); } })
        .catch(function () { /* offline for a moment: try again next tick */ })
        .then(function () { window.setTimeout(tick, POLL); });
    };
    window.setTimeout(tick, POLL);
  }
})();
