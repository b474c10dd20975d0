// Printable pages: buttons marked data-print open the browser's print dialog (no inline scripts under the CSP).
(function () {
  if (window.aremkoApp || window.aremkoPrint) return;  // app.js already handles data-print
  window.aremkoPrint = true;
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-print]");
    if (button) {
      evt.preventDefault();
      window.print();
    }
  });
})();
