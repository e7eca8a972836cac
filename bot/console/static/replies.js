// Saved replies: a live SMS segment counter per language while admins write.
// The server counts (variables filled, GSM-7 folding); this only shows it.
(function () {
  "use strict";
  var DEBOUNCE = 400;

  function plural(count, word) { return count + " " + word + (count === 1 ? "" : "s"); }

  Array.prototype.forEach.call(document.querySelectorAll("form.reply-form"), function (form) {
    var url = form.getAttribute("data-preview");
    var token = form.querySelector("input[name=csrf_token]").value;
    var counters = form.querySelectorAll("output.counter");
    var timer = null;
    var latest = 0;

    function show(data) {
      Array.prototype.forEach.call(counters, function (output) {
        var lang = output.getAttribute("data-lang");
        var count = data.segments && data.segments[lang];
        var error = data.errors && data.errors[lang];
        output.classList.toggle("error", Boolean(error));
        output.textContent = error ? error : count ? plural(count.segments, "SMS segment") + " (" +
          count.encoding + ", " + count.units + " units)" : "";
      });
    }

    function refresh() {
      var ticket = ++latest;
      fetch(url, {
        method: "POST", credentials: "same-origin", body: new FormData(form),
        headers: { Accept: "application/json", "X-CSRFToken": token }
      }).then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.json() : null;
      }).then(function (data) {
        if (data && ticket === latest) { show(data); }
      }).catch(function () { /* offline for a moment: the next keystroke tries again */ });
    }

    form.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DEBOUNCE);
    });
    refresh();
  });
})();
