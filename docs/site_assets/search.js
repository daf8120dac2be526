// The course website's search page: a lunr index over every section of every page (search-index.js,
// written by `python -m dlcourse.site build`), queried with ?q=... ; works from file:// as well as a server.
(function () {
  "use strict";
  var docs = window.SEARCH_DOCS || [];
  var index = lunr(function () {
    this.ref("id");
    this.field("title", { boost: 5 });
    this.field("text");
    docs.forEach(function (doc, i) { this.add({ id: String(i), title: doc.title, text: doc.text }); }, this);
  });
  var query = (new URLSearchParams(window.location.search).get("q") || "").trim();
  var input = document.getElementById("search-page-input");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  input.value = query;
  if (!query) { status.textContent = "Type a word and press Enter."; return; }
  var words = query.toLowerCase().split(/\s+/).map(function (w) { return w.replace(/[^\w\u00c0-\uffff-]/g, ""); })
    .filter(Boolean);
  var hits = [];
  try { hits = index.search(query); } catch (error) { hits = []; }  // lunr's query syntax (a stray ":" or "~")
  if (!hits.length && words.length) {
    hits = index.query(function (q) {
      words.forEach(function (w) { q.term(w, { wildcard: lunr.Query.wildcard.TRAILING, presence: lunr.Query.presence.REQUIRED }); });
    });
  }
  status.textContent = hits.length + " section" + (hits.length === 1 ? "" : "s") + " found for \u201c" + query + "\u201d";
  hits.slice(0, 50).forEach(function (hit) {
    var doc = docs[Number(hit.ref)];
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.className = "search-result";
    link.href = doc.url;
    link.textContent = doc.page === doc.title ? doc.title : doc.page + " \u2014 " + doc.title;
    item.appendChild(link);
    var lower = doc.text.toLowerCase(), at = -1;
    words.forEach(function (w) { var i = lower.indexOf(w); if (i >= 0 && (at < 0 || i < at)) { at = i; } });
    var snippet = document.createElement("p");
    snippet.className = "search-snippet";
    var start = Math.max(0, at - 80);
    snippet.textContent = (start > 0 ? "\u2026" : "") + doc.text.slice(start, start + 240) + "\u2026";
    item.appendChild(snippet);
    list.appendChild(item);
  });
})();
