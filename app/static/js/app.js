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

// Cart holds: live countdown next to "Reservado hasta HH:MM"; at expiry the line reads as the server would show it.
function updateCountdowns() {
  document.querySelectorAll("[data-expires]").forEach(function (el) {
    var left = Math.round((Date.parse(el.getAttribute("data-expires")) - Date.now()) / 60000);
    var span = el.querySelector(".countdown");
    if (left <= 0) {
      el.className = "small text-warning-emphasis hold-status";
      el.textContent = "Reserva temporal vencida: se verificará la disponibilidad al pagar";
      el.removeAttribute("data-expires");
    } else if (span) {
      span.textContent = "(quedan " + left + " min)";
    }
  });
}
document.addEventListener("DOMContentLoaded", updateCountdowns);
document.addEventListener("htmx:afterSettle", updateCountdowns);
setInterval(updateCountdowns, 30000);

// Front desk dialogs: "Cerrar" empties the dialog region (the page works without it: dialogs are also pages).
document.addEventListener("click", function (evt) {
  var btn = evt.target.closest("[data-dialog-close]");
  if (!btn) return;
  var dialog = document.getElementById("dialog");
  if (dialog) { dialog.innerHTML = ""; dialog.className = ""; }
});
// Printable pages: a button instead of an inline onclick (CSP).
document.addEventListener("click", function (evt) {
  if (evt.target.closest("[data-print]")) window.print();
});
// Segment lists: "Seleccionar página" ticks every client checkbox of the page shown.
document.addEventListener("click", function (evt) {
  var btn = evt.target.closest("[data-select-page]");
  if (!btn) return;
  var form = btn.closest("form");
  if (form) form.querySelectorAll("input[name=selected_clients]").forEach(function (box) { box.checked = true; });
});

// Booking panel: "Agregar al carrito" waits for an hour (the server already disables it on closed or full days).
function syncAddToCart() {
  var form = document.getElementById("booking-form");
  var button = document.getElementById("add-to-cart");
  if (!form || !button) return;
  var hasHours = form.querySelector("input[name=hora]:not([disabled])");
  button.disabled = !hasHours || !form.querySelector("input[name=hora]:checked");
}
document.addEventListener("DOMContentLoaded", syncAddToCart);
document.addEventListener("htmx:afterSettle", syncAddToCart);
document.addEventListener("change", function (evt) {
  if (evt.target.matches && evt.target.matches("#booking-form input[name=hora]")) syncAddToCart();
});
// Keyboard shortcuts (front desk board): a key pressed outside any text field activates the element marked
// data-shortcut="<key>" (focus for a field, click otherwise). One listener, however often this file runs.
if (!window.aremkoShortcuts) {
  window.aremkoShortcuts = true;
  document.addEventListener("keydown", function (evt) {
    if (evt.ctrlKey || evt.metaKey || evt.altKey || evt.defaultPrevented || evt.repeat) return;
    var t = evt.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var key = evt.key.length === 1 ? evt.key.toLowerCase() : evt.key;
    var el = document.querySelector('[data-shortcut="' + (window.CSS ? CSS.escape(key) : key) + '"]');
    if (!el) return;
    evt.preventDefault();
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) { el.focus(); if (el.select) el.select(); } else { el.click(); }
  });
}
