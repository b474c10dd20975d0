// Charts from a `data-chart` JSON attribute (CSP: no inline scripts). Needs the vendored Chart.js loaded first.
(function () {
  if (window.aremkoCharts) return;  // boosted navigation may load this file again
  var clp = new Intl.NumberFormat("es-CL", { style: "currency", currency: "CLP", maximumFractionDigits: 0 });

  function prepare(config) {
    var scales = (config.options && config.options.scales) || {};
    Object.keys(scales).forEach(function (key) {
      if (scales[key].format === "clp") {
        scales[key].ticks = Object.assign({}, scales[key].ticks, { callback: function (v) { return clp.format(v); } });
      }
    });
    return config;
  }

  function render(root) {
    if (!window.Chart) return;
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (window.Chart.getChart(canvas)) return;  // already drawn (settle events fire for every swap)
      try {
        new window.Chart(canvas, prepare(JSON.parse(canvas.getAttribute("data-chart"))));
      } catch (e) {
        canvas.insertAdjacentText("afterend", "No se pudo dibujar el gráfico.");
      }
    });
  }

  window.aremkoCharts = { render: render };
  document.addEventListener("DOMContentLoaded", function () { render(document); });
  document.addEventListener("htmx:afterSettle", function () { render(document); });
  if (document.readyState !== "loading") render(document);
})();
