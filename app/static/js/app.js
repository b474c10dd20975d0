// Small behaviours only; everything works without JavaScript.
// Loaded once per full page load (deferred in <head>); the guard keeps handlers single even if it runs twice (UX D4).
(function () {
  if (window.aremkoApp) return;
  window.aremkoApp = true;

  // Errors (UX D5). A boosted navigation that fails shows the server's styled page (403/404/500 in Spanish);
  // any other failed HTMX action shows the server's own message above the page.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (evt.detail.boosted && xhr.status >= 400 && xhr.status !== 401 && /text\/html/.test(xhr.getResponseHeader("Content-Type") || "")) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });

  function serverMessage(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    try {
      if (/json/.test(type)) return JSON.parse(xhr.responseText).error || "";
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var el = doc.querySelector("[data-error-message]");
      return el ? el.textContent.replace(/\s+/g, " ").trim() : "";
    } catch (e) {
      return "";
    }
  }

  function showError(text) {
    var flashes = document.getElementById("flashes");
    if (!flashes) return;
    var div = document.createElement("div");
    div.className = "alert alert-danger mb-2";
    div.setAttribute("role", "alert");
    div.setAttribute("data-htmx-error", "");
    div.textContent = text;
    flashes.querySelectorAll("[data-htmx-error]").forEach(function (old) { old.remove(); });
    flashes.appendChild(div);
  }

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var text = document.body.getAttribute("data-error-text") || "No se pudo completar la acción (error {status}).";
    showError(serverMessage(xhr) || text.replace("{status}", xhr.status));
  });
  document.addEventListener("htmx:sendError", function () {
    showError(document.body.getAttribute("data-offline-text") || "No hay conexión con el servidor. Revise su conexión e intente nuevamente.");
  });

  // Forms marked data-autosubmit post themselves (the fake Flow returning to the shop, as Flow does).
  function autosubmit() {
    var form = document.querySelector("form[data-autosubmit]:not([data-submitted])");
    if (form) { form.setAttribute("data-submitted", "1"); form.submit(); }
  }

  // Cart holds: live countdown next to "Reservado hasta HH:MM"; at expiry the line reads as the server would show it.
  function updateCountdowns() {
    document.querySelectorAll("[data-expires]").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-expires")) - Date.now()) / 60000);
      var span = el.querySelector(".countdown");
      if (left <= 0) {
        el.className = "small text-warning-emphasis hold-status";
        el.textContent = el.getAttribute("data-expired-text") || "Reserva temporal vencida: se verificará la disponibilidad al pagar";
        el.removeAttribute("data-expires");
      } else if (span) {
        // the page's language: the server renders the text with a {n} placeholder (data-left-text)
        span.textContent = (el.getAttribute("data-left-text") || "(quedan {n} min)").replace("{n}", left);
      }
    });
  }

  // Scroll areas (wide tables, long texts) reachable by keyboard: focusable and named (axe scrollable-region-focusable).
  function focusableScrollAreas() {
    document.querySelectorAll(".table-responsive, pre, .overflow-auto").forEach(function (el) {
      if (el.hasAttribute("tabindex")) return;
      if (el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight) return;
      el.setAttribute("tabindex", "0");
      if (!el.hasAttribute("aria-label") && el.tagName !== "PRE") {
        var caption = el.querySelector("caption");
        el.setAttribute("role", "region");
        el.setAttribute("aria-label", caption ? caption.textContent.trim() : "Tabla desplazable");
      }
    });
  }

  function ready() { autosubmit(); updateCountdowns(); focusableScrollAreas(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready); else ready();
  document.addEventListener("htmx:afterSettle", ready);
  setInterval(updateCountdowns, 30000);
  window.addEventListener("resize", focusableScrollAreas);

  // Navbar dropdowns (<details>): one open at a time, closed by a click elsewhere or Escape.
  function closeMenus(except) {
    document.querySelectorAll(".nav-dropdown details[open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (evt) {
    closeMenus(evt.target.closest(".nav-dropdown details"));
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape") closeMenus(null);
  });

  document.addEventListener("click", function (evt) {
    // Front desk dialogs: "Cerrar" empties the dialog region (the page works without it: dialogs are also pages).
    if (evt.target.closest("[data-dialog-close]")) {
      var dialog = document.getElementById("dialog");
      if (dialog) { dialog.innerHTML = ""; dialog.className = ""; }
    }
    // Printable pages: a button instead of an inline onclick (CSP).
    if (evt.target.closest("[data-print]")) {
      evt.preventDefault();
      window.print();
    }
    // Segment lists: "Seleccionar página" ticks every client checkbox of the page shown.
    var btn = evt.target.closest("[data-select-page]");
    if (btn) {
      var form = btn.closest("form");
      if (form) form.querySelectorAll("input[name=selected_clients]").forEach(function (box) { box.checked = true; });
    }
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
})();
