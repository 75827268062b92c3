/* Quality page: completeness per field as horizontal Chart.js bars (0-100 %).
 *
 * A chart is a <canvas data-quality-chart="ID"> next to `{{ data|json_script:"ID" }}` holding
 * {"labels": [field...], "values": [percent...], "filled": [rows...], "total": rows}.
 * Bars are green when complete, amber from 50 %, red below.
 */
(function () {
  "use strict";

  var MUTED = "#6b7280";
  var GRID = "#eef0f4";
  var numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

  function colour(percent) {
    if (percent >= 99.95) {
      return "rgba(22, 163, 74, 0.8)";
    }
    return percent >= 50 ? "rgba(217, 119, 6, 0.8)" : "rgba(220, 38, 38, 0.8)";
  }

  function draw(canvas) {
    if (!window.Chart || window.Chart.getChart(canvas)) {
      return;
    }
    var source = document.getElementById(canvas.dataset.qualityChart);
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: "Filled",
          data: data.values,
          backgroundColor: data.values.map(colour),
          borderRadius: 4,
          maxBarThickness: 16,
          minBarLength: 3,  // an empty field still shows its (red) bar
        }],
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: 300 },
        plugins: {
          legend: { display: false },
          tooltip: {
            displayColors: false,
            callbacks: {
              label: function (item) {
                var filled = data.filled[item.dataIndex];
                return item.parsed.x + " % filled (" + numberFormat.format(filled) + " of " +
                  numberFormat.format(data.total) + ")";
              },
            },
          },
        },
        scales: {
          x: {
            min: 0,
            max: 100,
            grid: { color: GRID },
            border: { display: false },
            ticks: {
              color: MUTED,
              maxRotation: 0,
              autoSkip: true,
              callback: function (value) { return value + " %"; },
            },
          },
          y: { grid: { display: false }, border: { display: false }, ticks: { color: MUTED } },
        },
      },
    });
  }

  function drawAll(root) {
    if (root && root.querySelectorAll) {
      root.querySelectorAll("canvas[data-quality-chart]").forEach(draw);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
  });
})();
