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
