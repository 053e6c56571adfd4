// Client-side search over every issue: reads search.json, shows matches as text (never as HTML).
"use strict";
(function () {
  var script = document.currentScript;
  var root = script ? script.src.replace(/static\/search\.js(\?.*)?$/, "") : "../";

  function words(text) {
    return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .split(/[^a-z0-9]+/).filter(function (w) { return w.length > 0; });
  }

  function score(entry, terms) {
    var title = words(entry.t).join(" ");
    var all = title + " " + words(entry.x + " " + entry.h).join(" ");
    var total = 0;
    for (var i = 0; i < terms.length; i++) {
      if (all.indexOf(terms[i]) < 0) { return 0; }
      total += title.indexOf(terms[i]) >= 0 ? 3 : 1;
    }
    return total;
  }

  function show(results, status, entries, query) {
    var terms = words(query);
    results.textContent = "";
    if (terms.length === 0) { return; }
    var found = entries.map(function (e, i) { return { e: e, s: score(e, terms), i: i }; })
      .filter(function (m) { return m.s > 0; })
      .sort(function (a, b) { return b.s - a.s || a.i - b.i; })
      .slice(0, 50);
    status.textContent = found.length === 0 ? "No story matches \u201c" + query + "\u201d."
      : found.length + (found.length === 1 ? " story matches" : " stories match") + " \u201c" + query + "\u201d.";
    found.forEach(function (m) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = root + m.e.u;
      link.textContent = m.e.t;
      var where = document.createElement("span");
      where.className = "meta";
      where.textContent = m.e.h + " \u00b7 " + m.e.i;
      var text = document.createElement("p");
      text.textContent = m.e.x.length > 240 ? m.e.x.slice(0, 240) + "\u2026" : m.e.x;
      item.append(link, where, text);
      results.append(item);
    });
  }

  function start() {
    var results = document.getElementById("search-results");
    var status = document.getElementById("search-status");
    var input = document.getElementById("search-query");
    if (!results || !status || !input) { return; }
    var query = new URLSearchParams(window.location.search).get("q") || "";
    input.value = query;
    fetch(root + "search.json").then(function (response) {
      if (!response.ok) { throw new Error("search.json: HTTP " + response.status); }
      return response.json();
    }).then(function (entries) {
      show(results, status, entries, query);
      input.addEventListener("input", function () { show(results, status, entries, input.value); });
    }).catch(function () {
      status.textContent = "Search needs the site served over HTTP (try `digest serve`).";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
