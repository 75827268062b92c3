/* Charts of the insights pages (Chart.js is loaded by base.html, deferred).
 *
 * <canvas data-insights-trend="ID">: stacked daily/weekly bars of positive, neutral and
 *   negative texts, with the negative share (%, rolling over 7 points) as a line on the right axis. Data:
 *   {"labels": [...], "positive": [...], "neutral": [...], "negative": [...], "share": [...]}
 * <canvas data-insights-spark="ID" data-key="K">: a small line of data[K] = {labels, values}.
 * <canvas data-insights-bars="ID">: horizontal bars, data {labels, values, colours?}.
 */
(function () {
  "use strict";
  var GREEN = "#16a34a", GREY = "#cbd5e1", RED = "#dc2626", ACCENT = "#4f46e5", GRID = "#eef0f4", MUTED = "#6b7280";

  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function trend(canvas) {
    var data = json(canvas.dataset.insightsTrend);
    if (!data) { return; }
    new window.Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          { type: "bar", label: "Positive", data: data.positive, backgroundColor: GREEN, stack: "texts", yAxisID: "y" },
          { type: "bar", label: "Neutral", data: data.neutral, backgroundColor: GREY, stack: "texts", yAxisID: "y" },
          { type: "bar", label: "Negative", data: data.negative, backgroundColor: RED, stack: "texts", yAxisID: "y" },
          { type: "line", label: "Negative share % (last 7 points)", data: data.share, borderColor: "#111827", backgroundColor: "#111827",
            borderWidth: 1.5, pointRadius: 0, tension: 0.3, spanGaps: true, yAxisID: "share" }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: { duration: 300 },
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 10, color: MUTED } } },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { color: MUTED, maxTicksLimit: 10 } },
          y: { stacked: true, beginAtZero: true, grid: { color: GRID }, border: { display: false }, ticks: { color: MUTED, precision: 0 } },
          share: { position: "right", beginAtZero: true, suggestedMax: 50, grid: { display: false }, border: { display: false },
                   ticks: { color: MUTED, callback: function (v) { return v + "%"; } } }
        }
      }
    });
  }

  function spark(canvas) {
    var all = json(canvas.dataset.insightsSpark);
    var data = all && all[canvas.dataset.key];
    if (!data) { return; }
    new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: [{ data: data.values, borderColor: ACCENT, borderWidth: 1.5, pointRadius: 0, tension: 0.3, fill: false }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false }, tooltip: { enabled: true } },
        scales: { x: { display: false }, y: { display: false, beginAtZero: true } }
      }
    });
  }

  function bars(canvas) {
    var data = json(canvas.dataset.insightsBars);
    if (!data) { return; }
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ data: data.values, backgroundColor: data.colours || ACCENT, borderRadius: 4, maxBarThickness: 18 }] },
      options: {
        indexAxis: data.vertical ? "x" : "y", responsive: true, maintainAspectRatio: false, animation: { duration: 300 },
        plugins: { legend: { display: false } },
        scales: {
          x: { beginAtZero: !data.vertical, grid: { color: GRID }, border: { display: false }, ticks: { color: MUTED } },
          y: { beginAtZero: !!data.vertical, grid: { display: !!data.vertical, color: GRID }, border: { display: false }, ticks: { color: MUTED } }
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-insights-trend]").forEach(trend);
    document.querySelectorAll("canvas[data-insights-spark]").forEach(spark);
    document.querySelectorAll("canvas[data-insights-bars]").forEach(bars);
  });
})();
