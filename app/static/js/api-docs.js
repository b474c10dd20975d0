// Interactive API docs: Swagger UI over /ventas/api/openapi.json (no inline script, CSP 'self').
(function () {
  var el = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: el.dataset.specUrl, domNode: el, deepLinking: true });
})();
