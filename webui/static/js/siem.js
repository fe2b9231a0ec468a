// SIEM console live stream: poll the events API for rows newer than the newest shown
// and prepend them. Without this script the page is a plain, complete search result.
(function () {
  "use strict";
  var table = document.getElementById("siem-events");
  if (!table) { return; }
  var body = document.getElementById("siem-rows");
  var status = document.getElementById("live-status");
  var toggle = document.getElementById("live-toggle");
  var after = table.getAttribute("data-after") || "0";
  var limit = parseInt(table.getAttribute("data-limit"), 10) || 100;
  var eventUrl = table.getAttribute("data-event-url");
  var paused = false;
  var timer = null;
  var SEV = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

  function bigger(a, b) {  // row ids are 63-bit: compare as BigInt, never as Number
    try { return BigInt(a) > BigInt(b); } catch (e) { return false; }
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    row.appendChild(td);
    return td;
  }

  function render(ev) {
    var tr = document.createElement("tr");
    tr.className = "fresh";
    var td = document.createElement("td");
    var a = document.createElement("a");
    a.href = eventUrl.replace("EVENT_ID", encodeURIComponent(ev.event_id));
    a.textContent = (ev.timestamp || "").replace("T", " ").slice(0, 19);
    td.appendChild(a);
    tr.appendChild(td);
    cell(tr, ev.host);
    var sev = cell(tr, "");
    if (ev.severity !== null && ev.severity >= 0 && ev.severity <= 7) {
      var badge = document.createElement("span");
      badge.className = "badge syslog-" + ev.severity;
      badge.textContent = SEV[ev.severity];
      sev.appendChild(badge);
    }
    cell(tr, ev.action);
    cell(tr, ev.outcome);
    cell(tr, ev.source_ip);
    cell(tr, ev.user);
    cell(tr, ev.message).className = "msg";
    return tr;
  }

  function poll() {
    if (paused) { return; }
    var params = new URLSearchParams({
      q: table.getAttribute("data-q") || "",
      since: table.getAttribute("data-since") || "24h",
      after: after, limit: String(limit)
    });
    var opd = table.getAttribute("data-opd");
    if (opd) { params.set("opd", opd); }
    fetch(table.getAttribute("data-api") + "?" + params.toString(),
          {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (page) {
        var rows = page.results || [];
        if (rows.length) {
          var empty = body.querySelector("tr.empty");
          if (empty) { empty.remove(); }
          var frag = document.createDocumentFragment();
          rows.forEach(function (ev) {
            frag.appendChild(render(ev));
            if (bigger(ev.id, after)) { after = ev.id; }
          });
          body.insertBefore(frag, body.firstChild);
          while (body.rows.length > limit * 3) { body.deleteRow(body.rows.length - 1); }
          table.setAttribute("data-after", after);
        }
        status.textContent = status.getAttribute("data-live") || status.textContent;
      })
      .catch(function () {
        status.textContent = status.getAttribute("data-error") || "Live update failed; retrying.";
      })
      .finally(function () { timer = window.setTimeout(poll, 3000); });
  }

  status.setAttribute("data-live", status.textContent);
  if (toggle) {
    toggle.addEventListener("click", function () {
      paused = !paused;
      toggle.textContent = toggle.getAttribute(paused ? "data-resume" : "data-pause");
      toggle.setAttribute("aria-pressed", paused ? "true" : "false");
      if (!paused) { window.clearTimeout(timer); poll(); }
    });
  }
  timer = window.setTimeout(poll, 3000);
}());
