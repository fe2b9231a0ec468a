// Playbook run page: poll the run's JSON until it has finished, showing the output as it
// grows and the per-device results at the end. Without this script the page is a
// complete snapshot of the run (reload to refresh).
(function () {
  "use strict";
  var card = document.getElementById("run");
  if (!card || card.getAttribute("data-finished") === "true") { return; }
  var url = card.getAttribute("data-url");
  var output = document.getElementById("run-output");
  var state = document.getElementById("run-state");
  var error = document.getElementById("run-error");
  var hosts = document.getElementById("run-hosts");
  var diffs = document.getElementById("run-diffs");
  var yes = card.getAttribute("data-yes") || "yes";
  var no = card.getAttribute("data-no") || "no";

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    row.appendChild(td);
  }

  function verification(h) {
    var text = h.verified === null ? "-" : (h.verified ? "ok" : h.verification.join("; "));
    return h.error ? text + " " + h.error : text;
  }

  function showHosts(list) {
    hosts.textContent = "";
    diffs.textContent = "";
    list.forEach(function (h) {
      var tr = document.createElement("tr");
      cell(tr, h.host);
      cell(tr, h.status);
      cell(tr, h.changed ? yes : no);
      cell(tr, h.diff_lines);
      cell(tr, verification(h));
      hosts.appendChild(tr);
      if (h.diff) {
        var title = document.createElement("h3");
        title.textContent = h.host;
        var pre = document.createElement("pre");
        pre.textContent = h.diff;
        diffs.appendChild(title);
        diffs.appendChild(pre);
      }
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (run) {
        output.textContent = run.output;
        state.textContent = run.state;
        if (run.error) { error.textContent = run.error; error.hidden = false; }
        if (run.finished) {
          showHosts(run.hosts);
          card.setAttribute("data-finished", "true");
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, 500);
}());
