// Interactive API docs: Swagger UI over /ventas/api/openapi.json (no inline script, CSP 'self').
// No deep links: they put a link inside each operation's toggle button (axe nested-interactive); the servers
// select gets a Spanish name (axe select-name).
(function () {
  var el = document.getElementById("swagger-ui");
  function label() {
    document.querySelectorAll("#servers:not([aria-label])").forEach(function (select) {
      select.setAttribute("aria-label", "Servidor");
    });
  }
  window.SwaggerUIBundle({ url: el.dataset.specUrl, domNode: el, deepLinking: false, onComplete: label });
  new MutationObserver(label).observe(el, { childList: true, subtree: true });
})();
