"""Spanish error pages for browsers, JSON bodies for the API, 401 + HX-Redirect for HTMX (spec README §6)."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, make_response, render_template, request, url_for
from flask.globals import request_ctx
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core.errors import DomainError
from app.web.i18n import translated

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("Solicitud inválida."),
    401: _l("Debe iniciar sesión."),
    403: _l("No tiene permiso para ver esta página."),
    404: _l("Página no encontrada."),
    405: _l("Método no permitido."),
    409: _l("Conflicto con el estado actual."),
    413: _l("El archivo es demasiado grande."),
    422: _l("Los datos enviados no son válidos."),
    429: _l("Demasiadas solicitudes. Intente nuevamente en un minuto."),
    500: _l("Ocurrió un error inesperado. Ya quedó registrado; intente nuevamente."),
    503: _l("Servicio no disponible."),
}


def is_api_path() -> bool:
    return request.path.startswith(("/ventas/api/", "/ventas/ventas/prebooking/"))


# JSON API error codes and messages (spec api.md §2)
API_CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "business_rule",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}
API_MESSAGES = {
    401: "Autenticación requerida.",
    403: "No tiene permiso para realizar esta acción.",
    404: "No encontrado.",
    500: "Error interno del servidor.",
}


def api_error(status: int, message: str | None = None, *, code: str | None = None, detail: dict | None = None):
    """`{"error", "code", "detail"}` (+ `request_id` on 5xx); never a trace or request data."""
    body = {
        "error": message or API_MESSAGES.get(status) or MESSAGES.get(status, "Error."),
        "code": code or API_CODES.get(status, "error"),
        "detail": detail or {},
    }
    if status >= 500:
        body["request_id"] = g.get("request_id", "")
    return make_response(jsonify(body), status)


def domain_error_response(exc: DomainError):
    """A DomainError as the API's JSON error (after rolling the transaction back)."""
    from app.extensions import db

    db.session.rollback()
    detail = {exc.field: [exc.message]} if exc.field else None
    if getattr(exc, "failures", None):  # SlotUnavailable: which lines and why
        detail = {
            "lineas": [
                {"linea": label, "motivo": entry.motivo, "mensaje": entry.mensaje} for label, entry in exc.failures
            ]
        }
    elif getattr(exc, "code", None) == "insufficient_stock":
        detail = {"lineas": [{"mensaje": exc.message}]}
    return api_error(exc.status, exc.message, code=getattr(exc, "code", None), detail=detail)


HEADINGS = {
    400: _l("Solicitud inválida"),
    405: _l("Método no permitido"),
    409: _l("No se pudo completar la acción"),
    413: _l("Archivo demasiado grande"),
    422: _l("Revise los datos"),
    429: _l("Demasiadas solicitudes"),
    503: _l("Servicio no disponible"),
}


def _default_message(status: int) -> str:
    from flask_login import current_user

    if status == 403 and current_user.is_authenticated:  # say why: the role, not a retry (UX review D5)
        return (
            f"Su perfil ({current_user.role_label}) no tiene permiso para abrir esta página "
            "ni para realizar esta acción."
        )
    if status == 404:
        return gettext("La dirección que busca no existe o ya no está disponible.")
    return MESSAGES.get(status, "Error.")


def error_response(status: int, message: str | None = None):
    """The API's JSON error, the styled Spanish page, or (HTMX fragment request) the message alone as an alert."""
    if is_api_path():
        return api_error(status, message if status not in API_MESSAGES else None)
    if request_ctx.url_adapter is None:  # Host not in TRUSTED_HOSTS: no URL can be built, so no page either
        return make_response(
            str(message or MESSAGES.get(status, "Error.")), status, {"Content-Type": "text/plain; charset=utf-8"}
        )
    message = message or _default_message(status)
    from app.web.htmx import wants_fragment

    if wants_fragment():
        template = "errors/_fragment.html"
    else:
        template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/generic.html"
    response = make_response(
        render_template(
            template, status=status, message=message, heading=HEADINGS.get(status), request_id=g.get("request_id", "")
        ),
        status,
    )
    response.vary.add("HX-Request")
    return response


def unauthorized_response():
    """Anonymous access to a staff route."""
    if is_api_path():
        return error_response(401)
    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 401)
        response.headers["HX-Redirect"] = login_url
        return response
    from flask import redirect

    return redirect(login_url)


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return error_response(
            400, gettext("La sesión del formulario expiró o no es válida. Recargue la página e intente de nuevo.")
        )

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        if is_api_path():
            return domain_error_response(exc)
        return error_response(exc.status, translated(exc.message))  # a visitor page: the visitor's language

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        message = None
        if status == 429:
            desc = getattr(exc, "description", "") or ""
            message = desc if desc.startswith("Demasiad") else None
        response = error_response(status, message)
        if status == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error request_id=%s", g.get("request_id", ""))
        from app.extensions import db

        db.session.rollback()
        return error_response(500)
