/* Charts of the forecasts pages (Chart.js is loaded by base.html, deferred).
 *
 * <canvas data-forecast-chart="ID">: history (line) and forecast (dashed) with the 80% and 95%
 *   intervals as shaded bands. Data: {"history": {"labels", "values"},
 *   "forecast": [{"date", "yhat", "lo", "hi", "lo_80", "hi_80"}]}
 * <canvas data-forecast-line="ID" data-key="K">: one component line, data[K] over data.labels.
 * <canvas data-forecast-acf="ID">: autocorrelation bars with the +-bound lines (data.acf, data.bound).
 * <canvas data-forecast-whatif="ID">: baseline vs campaign scenario (after an htmx swap too).
 */
(function () {
  "use strict";
  var ACCENT = "#4f46e5", DARK = "#111827", ORANGE = "#ea580c", GRID = "#eef0f4", MUTED = "#6b7280";

  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function axes(extra) {
    return Object.assign({
      x: { grid: { display: false }, ticks: { color: MUTED, maxTicksLimit: 10 } },
      y: { grid: { color: GRID }, border: { display: false }, ticks: { color: MUTED } }
    }, extra || {});
  }

  function forecastChart(canvas) {
    var data = json(canvas.dataset.forecastChart);
    if (!data) { return; }
    var history = data.history, points = data.forecast || [];
    var labels = history.labels.concat(points.map(function (p) { return p.date; }));
    var pad = function (values) { return history.labels.map(function () { return null; }).concat(values); };
    var last = history.values.length ? history.values[history.values.length - 1] : null;
    // The forecast line starts at the last actual so the two lines join.
    var joined = function (key) {
      var values = history.labels.map(function () { return null; });
      if (values.length) { values[values.length - 1] = last; }
      return values.concat(points.map(function (p) { return p[key]; }));
    };
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          { label: "95% interval", data: pad(points.map(function (p) { return p.hi; })), borderWidth: 0, pointRadius: 0, backgroundColor: "rgba(79,70,229,0.10)", fill: "+1" },
          { label: "95% low", data: pad(points.map(function (p) { return p.lo; })), borderWidth: 0, pointRadius: 0, fill: false },
          { label: "80% interval", data: pad(points.map(function (p) { return p.hi_80; })), borderWidth: 0, pointRadius: 0, backgroundColor: "rgba(79,70,229,0.20)", fill: "+1" },
          { label: "80% low", data: pad(points.map(function (p) { return p.lo_80; })), borderWidth: 0, pointRadius: 0, fill: false },
          { label: "Actual", data: history.values.concat(points.map(function () { return null; })), borderColor: DARK, borderWidth: 1.5, pointRadius: 0, tension: 0.2 },
          { label: "Forecast", data: joined("yhat"), borderColor: ACCENT, borderWidth: 2, borderDash: [6, 4], pointRadius: 0, tension: 0.2 }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: { duration: 300 },
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 10, color: MUTED, filter: function (item) { return item.text.indexOf(" low") < 0; } } } },
        scales: axes()
      }
    });
  }

  function componentLine(canvas) {
    var data = json(canvas.dataset.forecastLine);
    if (!data || !data[canvas.dataset.key]) { return; }
    new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: [{ data: data[canvas.dataset.key], borderColor: ACCENT, borderWidth: 1.2, pointRadius: 0, tension: 0.2 }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: axes({ x: { display: false } }) }
    });
  }

  function acf(canvas) {
    var data = json(canvas.dataset.forecastAcf);
    if (!data || !data.acf || !data.acf.length) { return; }
    var lags = data.acf.map(function (_, i) { return i; });
    var bound = function (sign) { return lags.map(function () { return sign * data.bound; }); };
    new window.Chart(canvas, {
      data: {
        labels: lags,
        datasets: [
          { type: "bar", label: "ACF", data: data.acf, backgroundColor: ACCENT, maxBarThickness: 8 },
          { type: "line", label: "bound", data: bound(1), borderColor: ORANGE, borderDash: [4, 4], borderWidth: 1, pointRadius: 0 },
          { type: "line", label: "-bound", data: bound(-1), borderColor: ORANGE, borderDash: [4, 4], borderWidth: 1, pointRadius: 0 }
        ]
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
                 scales: axes({ y: { min: -1, max: 1, grid: { color: GRID }, ticks: { color: MUTED } } }) }
    });
  }

  function whatif(canvas) {
    var data = json(canvas.dataset.forecastWhatif);
    if (!data) { return; }
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.dates,
        datasets: [
          { label: "95% high", data: data.scenario_hi, borderWidth: 0, pointRadius: 0, backgroundColor: "rgba(22,163,74,0.12)", fill: "+1" },
          { label: "95% low", data: data.scenario_lo, borderWidth: 0, pointRadius: 0, fill: false },
          { label: "Without the campaign", data: data.baseline, borderColor: MUTED, borderWidth: 1.5, pointRadius: 0, tension: 0.2 },
          { label: "With the campaign", data: data.scenario, borderColor: "#16a34a", borderWidth: 2, pointRadius: 0, tension: 0.2 }
        ]
      },
      options: { responsive: true, maintainAspectRatio: false, animation: { duration: 300 }, interaction: { mode: "index", intersect: false },
                 plugins: { legend: { position: "bottom", labels: { boxWidth: 10, color: MUTED, filter: function (item) { return item.text.indexOf("95%") < 0; } } } },
                 scales: axes() }
    });
  }

  function draw(root) {
    if (!window.Chart) { return; }
    var kinds = [["canvas[data-forecast-chart]", forecastChart], ["canvas[data-forecast-line]", componentLine],
                 ["canvas[data-forecast-acf]", acf], ["canvas[data-forecast-whatif]", whatif]];
    kinds.forEach(function (kind) {
      root.querySelectorAll(kind[0]).forEach(function (canvas) {
        if (canvas.dataset.drawn) { return; }
        canvas.dataset.drawn = "1";
        kind[1](canvas);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target || document); });
}());
