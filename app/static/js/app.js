// Small behaviours only; everything works without JavaScript.
document.addEventListener("htmx:responseError", function (evt) {
  var flashes = document.getElementById("flashes");
  if (!flashes) return;
  var div = document.createElement("div");
  div.className = "alert alert-danger mb-2";
  div.setAttribute("role", "alert");
  div.textContent = "No se pudo completar la acción (" + evt.detail.xhr.status + "). Intente nuevamente.";
  flashes.appendChild(div);
});

// Forms marked data-autosubmit post themselves (the fake Flow returning to the shop, as Flow does).
function autosubmit() {
  var form = document.querySelector("form[data-autosubmit]:not([data-submitted])");
  if (form) { form.setAttribute("data-submitted", "1"); form.submit(); }
}
document.addEventListener("DOMContentLoaded", autosubmit);
document.addEventListener("htmx:afterSettle", autosubmit);
