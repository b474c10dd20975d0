// Back office: Flask-Admin labels its row checkboxes with `title` only; give them an accessible name too.
(function () {
  document.querySelectorAll("input[type=checkbox][title]:not([aria-label])").forEach(function (box) {
    box.setAttribute("aria-label", box.getAttribute("title"));
  });
  document.querySelectorAll("th:empty").forEach(function (th) {
    th.innerHTML = '<span class="sr-only">Acciones</span>';
  });
})();
