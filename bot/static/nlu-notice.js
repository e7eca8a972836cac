// While `make run` trains the first NLU model, a banner (web chat, simulator) says how far it is and that
// answers use keywords until then (GET /api/nlu-status). It polls only while training
// and hides itself once the model answers.
(function () {
  "use strict";
  var banner = document.getElementById("nlu-notice");
  if (!banner) { return; }
  var RTL = { ar: true };

  function check() {
    var lang = document.documentElement.lang || document.body.getAttribute("data-lang") || "en";
    fetch("/api/nlu-status?lang=" + encodeURIComponent(lang), { cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.notice) { banner.hidden = true; return; }
        banner.textContent = data.notice;
        banner.lang = data.lang;
        banner.dir = RTL[data.lang] ? "rtl" : "ltr";
        banner.hidden = false;
        window.setTimeout(check, 5000);
      })
      .catch(function () { window.setTimeout(check, 10000); });
  }
  check();
})();
