(function () {
  "use strict";
  var table = document.getElementById("domain-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var search = document.getElementById("search");
  var verdict = document.getElementById("verdict-filter");
  var client = document.getElementById("client-filter");
  var shown = document.getElementById("shown");

  function applyFilters() {
    var text = (search.value || "").toLowerCase();
    var wantVerdict = verdict.value;
    var wantClient = client ? client.value : "";
    var count = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var visible = (!wantVerdict || row.dataset.verdict === wantVerdict) &&
        (!wantClient || row.dataset.client === wantClient) &&
        (!text || row.textContent.toLowerCase().indexOf(text) !== -1);
      row.hidden = !visible;
      var detail = document.getElementById(row.dataset.target);
      if (detail) { detail.hidden = !visible; }
      if (visible) { count += 1; }
    });
    shown.textContent = count + " of " + body.rows.length + " domains shown";
  }

  function sortBy(header) {
    var key = header.dataset.sort;
    var numeric = header.dataset.type === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.dataset[key], y = b.dataset[key];
      var result = numeric ? (parseFloat(x) - parseFloat(y)) : x.localeCompare(y);
      if (result === 0) { result = parseInt(a.dataset.rank, 10) - parseInt(b.dataset.rank, 10); }
      return ascending ? result : -result;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
    if (cell.dataset.sort) {
      cell.tabIndex = 0;
      cell.addEventListener("click", function () { sortBy(cell); });
      cell.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(cell); } });
    }
  });
  [search, verdict, client].forEach(function (el) {
    if (el) { el.addEventListener("input", applyFilters); el.addEventListener("change", applyFilters); }
  });
  applyFilters();
})();
