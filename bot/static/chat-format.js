// Message formatting shared by the web chat and the phone simulator:
// links and phone numbers become tappable (https:, tel:), and a long answer
// (MORE) is shown as short paragraphs. Builds DOM nodes only (never innerHTML),
// so a message can never inject markup.
(function () {
  "use strict";
  // A web address (with or without https://), a phone number, or 911.
  var TOKEN = /(https?:\/\/[^\s<>"]+|(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:gov|org|com|net|edu|us|info)(?:\/[^\s<>"]*)?|\+?1?[\s.-]?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b|\b911\b)/gi;
  var TRAILING = /[.,;:!?)\]。，；：！？）؟،]+$/;
  // Sentence ends: ". A", "? ¿", "! 2" … and Chinese full stops (no space after them).
  var SENTENCE_END = /([.!?؟])\s+(?=[\p{Lu}\p{Lo}\d"“(¿¡])|([。！？])(?=\S)/u;
  var SHORT = 220;
  var SHORT_CJK = 90;

  function phoneHref(text) {
    var digits = text.replace(/\D/g, "");
    if (digits.length <= 3) { return "tel:" + digits; }
    if (digits.length === 10) { digits = "1" + digits; }
    return "tel:+" + digits;
  }

  function appendLinked(parent, text) {
    var last = 0;
    text.replace(TOKEN, function (match, _g, offset) {
      var token = match.replace(TRAILING, "");
      var link = document.createElement("a");
      if (/^\+?[\d\s().-]+$/.test(token)) {
        if (token.replace(/\D/g, "").length !== 3 && token.replace(/\D/g, "").length < 10) { return match; }
        link.href = phoneHref(token.trim());
        token = token.trim();
        offset += match.indexOf(token);
      } else {
        link.href = /^https?:\/\//i.test(token) ? token : "https://" + token;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
      }
      link.textContent = token;
      parent.appendChild(document.createTextNode(text.slice(last, offset)));
      parent.appendChild(link);
      last = offset + token.length;
      return match;
    });
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function sentences(text) {
    var parts = [];
    var rest = text;
    var found;
    while ((found = SENTENCE_END.exec(rest))) {
      var end = found.index + (found[1] || found[2]).length;
      parts.push(rest.slice(0, end));
      rest = rest.slice(end).replace(/^\s+/, "");
    }
    if (rest) { parts.push(rest); }
    return parts;
  }

  // Paragraphs the text already has, and long ones cut between sentences.
  function paragraphs(text, lang) {
    var limit = lang === "zh" ? SHORT_CJK : SHORT;
    var result = [];
    text.split(/\n\s*\n/).forEach(function (block) {
      block = block.trim();
      if (!block) { return; }
      var lines = block.split("\n");
      // A block of short lines (the menu, a list) stays whole, its line breaks kept.
      if (lines.every(function (line) { return line.length <= limit * 1.3; })) { result.push(block); return; }
      lines.forEach(function (line) {
        line = line.trim();
        if (line.length <= limit * 1.3) { if (line) { result.push(line); } return; }
        var current = "";
        sentences(line).forEach(function (sentence) {
          if (current && current.length + sentence.length > limit) { result.push(current); current = ""; }
          current = current ? current + (lang === "zh" ? "" : " ") + sentence : sentence;
        });
        if (current) { result.push(current); }
      });
    });
    return result.length ? result : [text];
  }

  // Fill `element` with `text` as paragraphs with tappable links.
  function fill(element, text, lang) {
    paragraphs(text, lang).forEach(function (part) {
      var p = document.createElement("p");
      appendLinked(p, part);
      element.appendChild(p);
    });
  }

  window.kyrFormat = { fill: fill, paragraphs: paragraphs };
})();
