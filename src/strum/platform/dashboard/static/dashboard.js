// The dashboard's little JavaScript: the function page's charts (uPlot) and the live log tail.
(function () {
  "use strict";
  function chart(root, title, data, series) {
    // Points too: a minute with traffic between idle ones is a point, not a line.
    series.forEach(function (s) { s.points = {show: true, size: 4}; s.spanGaps = false; });
    var box = document.createElement("div");
    root.appendChild(box);
    new uPlot({title: title, width: 460, height: 220, series: [{}].concat(series),
               scales: {x: {time: true}}}, data, box);
  }
  var charts = document.getElementById("charts");
  if (charts && window.uPlot) {
    fetch(charts.dataset.metrics, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (m) {
        var t = m.time;
        chart(charts, "Requests per minute", [t, m.invocations, m.errors, m.throttles],
          [{label: "invocations", stroke: "#2563eb"}, {label: "errors", stroke: "#dc2626"},
           {label: "throttles", stroke: "#d97706"}]);
        chart(charts, "Duration (ms)", [t, m.p50, m.p90, m.p99],
          [{label: "p50", stroke: "#059669"}, {label: "p90", stroke: "#2563eb"},
           {label: "p99", stroke: "#7c3aed"}]);
        chart(charts, "Cold starts", [t, m.cold_starts, m.init_ms],
          [{label: "cold starts", stroke: "#0891b2"}, {label: "init ms (mean)", stroke: "#be185d"}]);
      });
  }
  var log = document.getElementById("log");
  var live = document.getElementById("live");
  if (log && window.EventSource) {
    var source = null;
    var body = log.tBodies[0];
    function cell(row, text, pre) {
      var td = row.insertCell();
      if (pre) { var p = document.createElement("pre"); p.textContent = text; td.appendChild(p); }
      else { td.textContent = text == null ? "" : text; }
    }
    function start() {
      source = new EventSource(log.dataset.live);
      source.onmessage = function (event) {
        var e = JSON.parse(event.data);
        var row = body.insertRow();
        row.className = e.kind;
        cell(row, new Date(e.time * 1000).toLocaleString());
        cell(row, e.version); cell(row, (e.request_id || "").slice(0, 8));
        cell(row, e.message, true); cell(row, e.duration); cell(row, e.billed);
        cell(row, e.max_memory); cell(row, e.init);
        row.scrollIntoView({block: "nearest"});
      };
    }
    start();
    live.addEventListener("change", function () {
      if (live.checked) { start(); } else if (source) { source.close(); source = null; }
    });
  }
})();
