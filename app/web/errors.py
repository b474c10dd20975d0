"""Spanish error pages for browsers, JSON bodies for the API, 401 + HX-Redirect for HTMX (spec README §6)."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, make_response, render_template, request, url_for
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core.errors import DomainError

log = logging.getLogger(__name__)

MESSAGES = {
    400: "Solicitud inválida.",
    401: "Debe iniciar sesión.",
    403: "No tiene permiso para ver esta página.",
    404: "Página no encontrada.",
    405: "Método no permitido.",
    409: "Conflicto con el estado actual.",
    413: "El archivo es demasiado grande.",
    422: "Los datos enviados no son válidos.",
    429: "Demasiadas solicitudes. Intente nuevamente en un minuto.",
    500: "Ocurrió un error inesperado. Ya quedó registrado; intente nuevamente.",
    503: "Servicio no disponible.",
}


def is_api_path() -> bool:
    return request.path.startswith("/ventas/api/")


def error_response(status: int, message: str | None = None):
    message = message or MESSAGES.get(status, "Error.")
    if is_api_path():
        body = {"error": message, "status": status}
        if status >= 500:
            body["request_id"] = g.get("request_id", "")
        return make_response(jsonify(body), status)
    if request_ctx.url_adapter is None:  # Host not in TRUSTED_HOSTS: no URL can be built, so no page either
        return make_response(message, status, {"Content-Type": "text/plain; charset=utf-8"})
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/generic.html"
    return make_response(
        render_template(template, status=status, message=message, request_id=g.get("request_id", "")), status
    )


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
            400, "La sesión del formulario expiró o no es válida. Recargue la página e intente de nuevo."
        )

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return error_response(exc.status, exc.message)

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
