/* SmartMkt site script: htmx CSRF header and Chart.js charts drawn from json_script data.
 *
 * A chart is a <canvas data-chart-source="ID"> next to `{{ data|json_script:"ID" }}` whose
 * content is {"labels": [...ISO dates...], "values": [...numbers...]}. Options on the canvas:
 *   data-chart-type    line (default) or bar
 *   data-chart-format  number (default) or money
 *   data-chart-label   the series name shown in the tooltip
 * Charts are drawn on page load and again inside any fragment htmx swaps in.
 */
(function () {
  "use strict";

  var ACCENT = "#4f46e5";
  var ACCENT_FILL_TOP = "rgba(79, 70, 229, 0.18)";
  var ACCENT_FILL_BOTTOM = "rgba(79, 70, 229, 0.0)";
  var GRID = "#eef0f4";
  var MUTED = "#6b7280";
  // A line of this many points or fewer shows its points: one or two points draw no visible line.
  var SHORT_SERIES = 14;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Django refuses unsafe htmx requests without the token; send it on every htmx request.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  var integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  var compactFormat = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
  var moneyFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  var longDayFormat = new Intl.DateTimeFormat(undefined, {
    weekday: "short", year: "numeric", month: "short", day: "numeric", timeZone: "UTC",
  });

  function dayLabel(iso, long) {
    var date = new Date(iso + "T00:00:00Z");
    if (isNaN(date.getTime())) {
      return iso;
    }
    return (long ? longDayFormat : dayFormat).format(date);
  }

  function valueLabel(value, format) {
    return format === "money" ? moneyFormat.format(value) : integerFormat.format(value);
  }

  function chartConfig(canvas, data) {
    var type = canvas.dataset.chartType === "bar" ? "bar" : "line";
    var format = canvas.dataset.chartFormat || "number";
    var dataset = {
      label: canvas.dataset.chartLabel || "",
      data: data.values,
      borderColor: ACCENT,
      backgroundColor: ACCENT,
      borderWidth: type === "line" ? 2 : 0,
    };
    var short = data.values.length <= SHORT_SERIES;
    if (type === "line") {
      dataset.tension = 0.3;
      dataset.cubicInterpolationMode = "monotone";  // smooth, but never overshoots below zero
      dataset.pointRadius = short ? 4 : 0;
      dataset.pointHoverRadius = short ? 6 : 4;
      dataset.pointBackgroundColor = ACCENT;
      dataset.fill = true;
      dataset.backgroundColor = function (context) {
        var area = context.chart.chartArea;
        if (!area) {
          return ACCENT_FILL_TOP;
        }
        var gradient = context.chart.ctx.createLinearGradient(0, area.top, 0, area.bottom);
        gradient.addColorStop(0, ACCENT_FILL_TOP);
        gradient.addColorStop(1, ACCENT_FILL_BOTTOM);
        return gradient;
      };
    } else {
      dataset.borderRadius = 4;
      dataset.maxBarThickness = 22;
      dataset.backgroundColor = "rgba(79, 70, 229, 0.85)";
      dataset.hoverBackgroundColor = ACCENT;
    }
    return {
      type: type,
      data: { labels: data.labels, datasets: [dataset] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: 400 },
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: {
            displayColors: false,
            padding: 10,
            callbacks: {
              title: function (items) {
                return items.length ? dayLabel(data.labels[items[0].dataIndex], true) : "";
              },
              label: function (item) {
                var name = dataset.label ? dataset.label + ": " : "";
                return name + valueLabel(item.parsed.y, format);
              },
            },
          },
        },
        scales: {
          x: {
            // A short line keeps its first and last points off the edges (a single point sits
            // in the middle instead of half-hidden at the left).
            offset: type === "bar" || short,
            grid: { display: false },
            border: { display: false },
            ticks: {
              color: MUTED,
              maxRotation: 0,
              autoSkip: true,
              maxTicksLimit: 8,
              callback: function (value) {
                return dayLabel(data.labels[value], false);
              },
            },
          },
          y: {
            beginAtZero: true,
            grid: { color: GRID },
            border: { display: false },
            ticks: {
              color: MUTED,
              maxTicksLimit: 6,
              precision: 0,
              callback: function (value) {
                return compactFormat.format(value);
              },
            },
          },
        },
      },
    };
  }

  // The page's font for every chart, set as soon as Chart.js is there: pages draw their own
  // charts on DOMContentLoaded too, and a chart measured in Chart.js's default font but drawn
  // in the page's clips its widest axis labels.
  function chartDefaults() {
    if (!window.Chart || !document.body) {
      return;
    }
    window.Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.font.size = 12;
  }
  chartDefaults();

  function renderCharts(root) {
    if (!window.Chart || !root || !root.querySelectorAll) {
      return;
    }
    chartDefaults();
    root.querySelectorAll("canvas[data-chart-source]").forEach(function (canvas) {
      if (window.Chart.getChart(canvas)) {
        return;
      }
      var source = document.getElementById(canvas.dataset.chartSource);
      if (!source) {
        return;
      }
      var data = JSON.parse(source.textContent);
      new window.Chart(canvas, chartConfig(canvas, data));
    });
  }

  window.SmartMkt = { renderCharts: renderCharts };

  document.addEventListener("DOMContentLoaded", function () {
    renderCharts(document);
  });
  document.addEventListener("htmx:load", function (event) {
    renderCharts(event.detail.elt);
  });
})();
