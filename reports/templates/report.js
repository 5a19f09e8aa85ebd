(function () {
  "use strict";
  var table = document.getElementById("domain-table");
  if (!table) { return; }
  var header = table.querySelector("thead tr");
  var bodies = Array.prototype.slice.call(table.querySelectorAll(".chunk tbody"));
  var search = document.getElementById("search");
  var verdict = document.getElementById("verdict-filter");
  var client = document.getElementById("client-filter");
  var shown = document.getElementById("shown");
  var withClient = table.classList.contains("with-client");
  var first = withClient ? 1 : 0;
  var rows = Array.prototype.slice.call(table.querySelectorAll(".chunk tr"));
  var chunk = bodies.length ? bodies[0].rows.length : 0;
  var items = null;  // built on first use: one entry per domain, in the page's order
  var order = [];  // the same, in the table's current order

  function index() {
    if (items) { return items; }
    items = rows.map(function (row, i) {
      var cells = row.cells;
      var badge = cells[first + 3].firstChild;  // <em class="v0">blocked</em>: rank 0 is the worst
      var score = parseFloat(cells[first + 1].textContent);
      return {
        row: row, rank: i,
        client: withClient ? cells[0].textContent : "", domain: cells[first].textContent,
        score: isNaN(score) ? -1 : score, verdict: badge.textContent,
        verdictrank: parseInt(badge.className.slice(1), 10),
        fails: parseInt(cells[first + 4].textContent, 10), warns: parseInt(cells[first + 5].textContent, 10),
        errors: parseInt(cells[first + 6].textContent, 10), text: null, visible: true
      };
    });
    order = items.slice();
    return items;
  }

  // Filtering never touches the full table: it is hidden as a whole and the matches (the
  // first LIMIT of them) are shown as copies in a table of their own, so a keystroke and
  // clearing the search cost the same on 10,000 domains as on 10. The details below stay
  // as they are (each match links to its own): hiding and showing 10,000 of them again
  // would cost a second per keystroke.
  var LIMIT = 200;
  var results = document.getElementById("matches");
  var more = document.getElementById("more-matches");
  function applyFilters() {
    var text = (search.value || "").toLowerCase();
    var wantVerdict = verdict.value;
    var wantClient = client ? client.value : "";
    var active = Boolean(text || wantVerdict || wantClient);
    var all = index();
    var count = 0;
    var fragment = document.createDocumentFragment();
    order.forEach(function (item) {
      if (active && text && item.text === null) { item.text = item.row.textContent.toLowerCase(); }
      item.visible = !active || ((!wantVerdict || item.verdict === wantVerdict) &&
        (!wantClient || item.client === wantClient) && (!text || item.text.indexOf(text) !== -1));
      if (item.visible) {
        count += 1;
        if (active && count <= LIMIT) {
          var copy = item.row.cloneNode(true);
          copy.removeAttribute("id");
          fragment.appendChild(copy);
        }
      }
    });
    results.textContent = "";
    results.appendChild(fragment);
    table.classList.toggle("filtering", active);
    more.hidden = !(active && count > LIMIT);
    more.textContent = "The first " + LIMIT + " of " + count + " matching domains are shown: narrow the search.";
    shown.textContent = count + " of " + all.length + " domains shown";
  }

  function sortBy(th) {
    var key = th.dataset.sort;
    var numeric = th.dataset.type === "number";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(header.cells, function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var sorted = index().slice();
    sorted.sort(function (a, b) {
      var x = a[key], y = b[key];
      var result = numeric ? x - y : x.localeCompare(y);
      if (result === 0) { result = a.rank - b.rank; }
      return ascending ? result : -result;
    });
    order = sorted;
    bodies.forEach(function (body, n) {  // each table keeps its number of rows, in the new order
      var fragment = document.createDocumentFragment();
      sorted.slice(n * chunk, (n + 1) * chunk).forEach(function (item) { fragment.appendChild(item.row); });
      body.appendChild(fragment);
    });
    if (table.classList.contains("filtering")) { applyFilters(); }  // the matches in the new order
  }

  Array.prototype.forEach.call(header.cells, function (cell) {
    if (cell.dataset.sort) {
      cell.tabIndex = 0;
      cell.addEventListener("click", function () { sortBy(cell); });
      cell.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(cell); } });
    }
  });
  [search, verdict, client].forEach(function (el) {
    if (el) { el.addEventListener("input", applyFilters); el.addEventListener("change", applyFilters); }
  });
  if (search.value || verdict.value || (client && client.value)) { applyFilters(); }  // kept by the browser
  // The search text of each row is read once, when the browser is idle after loading, not on the first keystroke.
  (window.requestIdleCallback || function (f) { return setTimeout(f, 500); })(function () {
    index().forEach(function (item) { if (item.text === null) { item.text = item.row.textContent.toLowerCase(); } });
  });

  // A fix is copied whole with one click: the record is selected and put on the clipboard.
  document.addEventListener("click", copyFix);
  function copyFix(e) {
    var pre = e.target;
    if (!pre.classList || !pre.classList.contains("fix")) { return; }
    var range = document.createRange();
    range.selectNodeContents(pre);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    if (navigator.clipboard) {
      navigator.clipboard.writeText(pre.textContent).then(function () {
        pre.classList.add("copied");
        setTimeout(function () { pre.classList.remove("copied"); }, 1500);
      }, function () { /* selected: Ctrl+C still works */ });
    }
  }
})();
