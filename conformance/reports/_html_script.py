"""The one inline script of report.html and the Content-Security-Policy that admits only it.

The script filters the page by outcome and capability (the choice is kept in the URL
fragment, ``#o=fail,error&c=runs.signal``, so a filtered view can be linked) and copies a
curl line to the clipboard. The policy allows exactly this script by its SHA-256 hash: a
script tag smuggled into the page (a hostile response body that escaped escaping) would
still not run, and nothing can be loaded from anywhere.
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["CSP", "SCRIPT"]

SCRIPT = """
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  form.hidden = false;
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=o]"));
  var cap = document.getElementById("filter-cap");
  var shown = document.getElementById("filter-shown");

  function fromHash() {
    var params = new URLSearchParams(location.hash.slice(1));
    var wanted = params.get("o");
    if (wanted !== null) {
      var set = wanted.split(",");
      boxes.forEach(function (b) { b.checked = set.indexOf(b.value) >= 0; });
    }
    var c = params.get("c");
    if (c !== null && cap.querySelector("option[value='" + CSS.escape(c) + "']")) {
      cap.value = c;
    }
  }

  function apply(save) {
    var outcomes = boxes.filter(function (b) { return b.checked; })
      .map(function (b) { return b.value; });
    var capability = cap.value;
    var narrowed = outcomes.length < boxes.length || capability !== "";
    var total = 0, visible = 0;
    document.querySelectorAll("[data-c]").forEach(function (el) {
      var o = el.getAttribute("data-o");
      var okCap = capability === "" || el.getAttribute("data-c") === capability;
      var ok = okCap && (o === null || outcomes.indexOf(o) >= 0);
      el.hidden = !ok;
      if (o !== null) { total += 1; if (ok) { visible += 1; } }
    });
    document.querySelectorAll(".tests").forEach(function (section) {
      var tests = section.querySelectorAll("[data-o]");
      var shownHere = Array.prototype.filter.call(tests, function (t) { return !t.hidden; });
      var any = shownHere.length > 0;
      section.hidden = tests.length > 0 && !any;
      if (narrowed && any && section.tagName === "DETAILS") { section.open = true; }
      var count = section.querySelector(".count");
      if (count) {
        var all = count.getAttribute("data-total");
        var n = String(shownHere.length);
        count.textContent = n === all ? all : n + " of " + all;
      }
    });
    shown.textContent = "showing " + visible + " of " + total + " tests";
    if (save) {
      var c = capability ? "&c=" + encodeURIComponent(capability) : "";
      var url = narrowed ? "#o=" + outcomes.join(",") + c : location.pathname + location.search;
      history.replaceState(null, "", url);
    }
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = source.textContent;
    var done = function () { button.textContent = "copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(source, done); });
    } else {
      fallback(source, done);
    }
  }

  function fallback(source, done) {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    if (document.execCommand("copy")) { done(); }
  }

  form.addEventListener("change", function () { apply(true); });
  form.addEventListener("reset", function () { setTimeout(function () { apply(true); }, 0); });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (button) { copy(button); }
  });
  window.addEventListener("hashchange", function () { fromHash(); apply(false); });
  fromHash();
  apply(false);
})();
"""

_DIGEST = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
CSP = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{_DIGEST}'"
