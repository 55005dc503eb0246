// Draws each dashboard chart with the vendored Chart.js from the figures the page embeds
// (<script type="application/json" id="…">, named by the canvas's data-chart). The same
// figures are in the table next to each chart, so the page reads without JavaScript.
"use strict";

(function () {
  const COLORS = ["#06c755", "#e8590c", "#1c7ed6", "#7048e8", "#868e96", "#f08c00"];

  function dataset(series, index, chart) {
    const color = COLORS[index % COLORS.length];
    const line = (series.type || chart.type) === "line";
    return Object.assign({}, series, {
      backgroundColor: chart.type === "doughnut" ? COLORS : color,
      borderColor: chart.type === "doughnut" ? "#fff" : color,
      borderWidth: line ? 2 : 1,
      pointRadius: line ? 2 : undefined,
      spanGaps: true,
    });
  }

  function scales(chart) {
    if (chart.type === "doughnut") {
      return {};
    }
    const found = {
      x: { ticks: { autoSkip: true, maxRotation: 0 } },
      y: { beginAtZero: true, ticks: { precision: 0 } },
    };
    if (chart.percent) {
      found.y.suggestedMax = 100;
      found.y.ticks.callback = (value) => `${value}%`;
    }
    if (chart.second_axis) {
      found.y2 = {
        beginAtZero: true,
        position: "right",
        grid: { drawOnChartArea: false },
        ticks: { precision: 0 },
      };
    }
    return found;
  }

  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    const chart = JSON.parse(source.textContent);
    // eslint-disable-next-line no-new
    new window.Chart(canvas, {
      type: chart.type,
      data: {
        labels: chart.labels,
        datasets: chart.datasets.map((series, index) => dataset(series, index, chart)),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: chart.horizontal ? "y" : "x",
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: scales(chart),
      },
    });
    canvas.dataset.drawn = "true";
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
