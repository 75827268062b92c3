/* Recommendations pages: the bar chart of NDCG@k by algorithm (Chart.js, vendored), and the
 * try-it customer picker (a click on a search result fills the id field).
 *
 * The chart reads {{ comparison.chart|json_script:"reco-ndcg-data" }}:
 *   {"labels": [...], "values": [...], "best": [bool...], "baseline": [bool...], "metric": "NDCG@10"}
 */
(function () {
  "use strict";

  var ACCENT = "#4f46e5";
  var ACCENT_SOFT = "rgba(79, 70, 229, 0.35)";
  var BASELINE = "rgba(100, 116, 139, 0.55)";
  var GRID = "#eef0f4";
  var MUTED = "#6b7280";

  function drawComparison() {
    var source = document.getElementById("reco-ndcg-data");
    var canvas = document.getElementById("reco-ndcg-chart");
    if (!source || !canvas || !window.Chart || window.Chart.getChart(canvas)) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var colours = data.values.map(function (value, index) {
      if (data.best[index]) { return ACCENT; }
      return data.baseline[index] ? BASELINE : ACCENT_SOFT;
    });
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: data.metric,
          data: data.values,
          backgroundColor: colours,
          hoverBackgroundColor: colours,
          borderRadius: 4,
          maxBarThickness: 22,
          minBarLength: 2,
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
                var index = item.dataIndex;
                var tag = data.best[index] ? " (best)" : (data.baseline[index] ? " (baseline)" : "");
                return data.metric + ": " + item.parsed.x.toFixed(4) + tag;
              },
            },
          },
        },
        scales: {
          x: {
            beginAtZero: true,
            grid: { color: GRID },
            border: { display: false },
            ticks: { color: MUTED, maxTicksLimit: 6 },
            title: { display: true, text: data.metric, color: MUTED },
          },
          y: { grid: { display: false }, border: { display: false }, ticks: { color: MUTED, autoSkip: false } },
        },
      },
    });
  }

  // The try-it page: a result of the customer search fills the id field and closes the list.
  document.addEventListener("click", function (event) {
    var choice = event.target.closest ? event.target.closest("[data-reco-pick]") : null;
    if (!choice) {
      return;
    }
    event.preventDefault();
    var input = document.getElementById("id_customer");
    if (input) {
      input.value = choice.getAttribute("data-reco-pick");
      input.focus();
    }
    var results = document.getElementById("reco-search-results");
    if (results) { results.innerHTML = ""; }
    var search = document.getElementById("reco-search");
    if (search) { search.value = ""; }
  });

  document.addEventListener("DOMContentLoaded", drawComparison);
})();
