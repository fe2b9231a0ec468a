// NOC wall: fetch the wall's JSON every few seconds and update the tiles in place.
// Text only (textContent), never HTML from the server, and no full-page reloads.
(function () {
  "use strict";
  var body = document.body;
  var api = body.getAttribute("data-api");
  var every = Math.max(parseInt(body.getAttribute("data-refresh"), 10) || 10, 2) * 1000;
  var words = document.getElementById("i18n").dataset;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function bps(v) {
    if (v === null || v === undefined) { return "\u2014"; }
    var units = [["Gbps", 1e9], ["Mbps", 1e6], ["kbps", 1e3]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(v) >= units[i][1]) { return (v / units[i][1]).toPrecision(3) + " " + units[i][0]; }
    }
    return Math.round(v) + " bps";
  }
  function fill(id, rows) {
    var target = document.getElementById(id);
    if (!target) { return; }
    while (target.firstChild) { target.removeChild(target.firstChild); }
    rows.forEach(function (row) { target.appendChild(row); });
  }
  function cells(values, classes) {
    var tr = el("tr");
    values.forEach(function (v, i) { tr.appendChild(el("td", v, classes ? classes[i] : "")); });
    return tr;
  }

  function render(board) {
    ["up", "down", "unknown"].forEach(function (k) {
      document.getElementById("count-" + k).textContent = board.devices[k];
    });
    board.topology.nodes.forEach(function (n) {
      var node = document.querySelector('.node[data-id="' + n.id + '"]');
      if (node) { node.setAttribute("class", "node node-" + n.status); }
    });
    board.topology.links.forEach(function (l) {
      var line = document.querySelector('.link[data-a="' + l.a + '"][data-b="' + l.b + '"]');
      if (line) { line.setAttribute("class", "link link-" + l.status); }
    });
    document.getElementById("alert-total").textContent = board.alerts.length;
    fill("alerts", board.alerts.length ? board.alerts.map(function (a) {
      var li = el("li", null, "sev-" + a.severity);
      li.appendChild(el("span", a.severity, "sev"));
      li.appendChild(document.createTextNode(" " + a.title));
      if (a.state === "acknowledged") { li.appendChild(el("span", " " + words.ack, "ack")); }
      return li;
    }) : [el("li", words.none, "none")]);
    fill("opds", board.opds.map(function (o) {
      var tr = cells([o.code, bps(o.in_bps), bps(o.out_bps),
                      o.allocation_mbps ? o.allocation_mbps + " Mbps" : "\u2014",
                      o.pct === null ? "\u2014" : o.pct + " %"]);
      if (o.pct !== null && o.pct >= 100) { tr.className = "over"; }
      return tr;
    }));
    ["source", "destination", "service"].forEach(function (by) {
      fill("talkers-" + by, board.talkers[by].map(function (t) {
        return cells([t.label + (t.opd ? " \u00b7 " + t.opd : ""), bps(t.bps)]);
      }));
    });
    fill("services", board.services.map(function (s) {
      var state = s.up === null ? "unknown" : (s.up ? "up" : "down");
      return cells([s.service + " \u00b7 " + s.name,
                    state === "unknown" ? "\u2014" : words[state],
                    s.rtt_ms === null ? "\u2014" : s.rtt_ms + " ms",
                    s.availability_pct === null ? "\u2014" : s.availability_pct + " %"],
                   ["", "svc-" + state, "", ""]);
    }));
    var updated = document.getElementById("wall-updated");
    updated.dataset.at = board.generated_at;
    updated.textContent = words.updated + " " + board.generated_at.substring(11, 19) + " UTC";
  }

  function tick() {
    fetch(api, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (board) { render(board); document.getElementById("wall-stale").hidden = true; })
      .catch(function () { document.getElementById("wall-stale").hidden = false; })
      .then(function () { window.setTimeout(tick, every); });
  }
  window.setTimeout(tick, every);
}());
