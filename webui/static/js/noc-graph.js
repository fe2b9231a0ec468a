// Interface bandwidth graph (uPlot, vendored): range buttons, drag to zoom, which asks
// the server for that window so the resolution follows the zoom (raw, 5 min, 1 h).
(function () {
  "use strict";
  var box = document.getElementById("graph");
  if (!box || !window.uPlot) { return; }
  var url = box.getAttribute("data-series");
  var plot = null;

  function bps(v) {
    if (v === null || v === undefined) { return "\u2014"; }
    var units = [["G", 1e9], ["M", 1e6], ["k", 1e3]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(v) >= units[i][1]) { return (v / units[i][1]).toPrecision(3) + " " + units[i][0] + "bps"; }
    }
    return Math.round(v) + " bps";
  }
  function draw(cols) {
    var series = [cols.t, cols.in_bps, cols.out_bps];
    if (plot) { plot.setData(series); return; }
    plot = new window.uPlot({
      width: box.clientWidth || 900, height: 320,
      series: [{}, {label: box.getAttribute("data-label-in"), stroke: "#2fbf71", width: 2,
                    value: function (u, v) { return bps(v); }},
               {label: box.getAttribute("data-label-out"), stroke: "#2d73c0", width: 2,
                value: function (u, v) { return bps(v); }}],
      axes: [{}, {values: function (u, vals) { return vals.map(bps); }, size: 80}],
      hooks: {setSelect: [function (u) {
        if (u.select.width < 5) { return; }
        var start = u.posToVal(u.select.left, "x");
        var end = u.posToVal(u.select.left + u.select.width, "x");
        load("start=" + Math.floor(start) + "&end=" + Math.ceil(end));
      }]}
    }, series, box);
  }
  function load(query) {
    box.setAttribute("aria-busy", "true");
    fetch(url + "?" + query, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(draw)
      .then(function () { box.removeAttribute("aria-busy"); box.setAttribute("data-loaded", "1"); });
  }
  document.querySelectorAll("button.range").forEach(function (button) {
    button.addEventListener("click", function () {
      document.querySelectorAll("button.range").forEach(function (b) { b.removeAttribute("aria-pressed"); });
      button.setAttribute("aria-pressed", "true");
      load("range=" + button.getAttribute("data-range"));
    });
  });
  box.addEventListener("dblclick", function () { load("range=6h"); });
  load("range=6h");
}());
