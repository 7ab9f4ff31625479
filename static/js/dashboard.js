/*
 * Dashboard charts: each figure's numbers come from a <script type="application/json"> block written by the
 * server (Django's json_script), {"type": "bar"|"line"|"doughnut", "labels": [...], "series": [{label, data}]}.
 * The same numbers are in the table under each chart, so the page is complete without this file or Chart.js.
 */
(function () {
  "use strict";

  if (typeof window.Chart === "undefined") {
    return;
  }
  var palette = ["#b3261e", "#f2c14e", "#1f7a3d", "#3566a8", "#8a5a00", "#7b4ea3", "#5c6670", "#d9825b"];

  function draw(container) {
    var source = document.getElementById(container.dataset.chart);
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var round = data.type === "doughnut";
    var datasets = data.series.map(function (series, index) {
      var colour = palette[index % palette.length];
      return {
        label: series.label,
        data: series.data,
        backgroundColor: round ? palette : colour,
        borderColor: round ? "#ffffff" : colour,
        fill: false,
        tension: 0.2,
      };
    });
    container.hidden = false;
    new window.Chart(container.querySelector("canvas"), {
      type: data.type,
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: round || datasets.length > 1, position: "bottom" } },
        scales: round ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  document.querySelectorAll("[data-chart]").forEach(draw);
})();
