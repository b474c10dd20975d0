"""Application factory: config, extensions, blueprints, CLI. Nothing else (no migrations, no scheduler)."""

from __future__ import annotations

import logging
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, load_config


def create_app(config: Config | str | None = None) -> Flask:
    cfg = config if isinstance(config, Config) else load_config(config)
    app = Flask(__name__, instance_path=os.path.join(os.path.dirname(os.path.dirname(__file__)), "instance"))
    app.config.from_object(cfg)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    _init_logging(app)
    if getattr(cfg, "INSECURE_KEY_WARNING", False):
        app.logger.warning("SECRET_KEY no definido: se usa una clave insegura de desarrollo.")
    for warning in getattr(cfg, "STARTUP_WARNINGS", []):
        app.logger.warning(warning)
    if cfg.PROXY_FIX_X_FOR or cfg.PROXY_FIX_X_PROTO:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=cfg.PROXY_FIX_X_FOR, x_proto=cfg.PROXY_FIX_X_PROTO)
    if cfg.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///"):
        try:  # the embedded database's folder (instance/) may not exist on a fresh checkout
            os.makedirs(os.path.dirname(cfg.SQLALCHEMY_DATABASE_URI[len("sqlite:///") :]), exist_ok=True)
        except OSError:
            pass  # /readyz reports the database as unavailable

    from app.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    from app.sales.client_stats_services import install as install_client_stats

    install_client_stats()  # the client-statistics table follows every sale change in its transaction
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    _init_login(app, login_manager)

    from app import models  # noqa: F401  (registers every model on the metadata)
    from app.web.assets import init_assets
    from app.web.error_tracking import init_error_tracking
    from app.web.errors import init_error_handlers
    from app.web.filters import init_filters
    from app.web.i18n import init_i18n
    from app.web.metrics import init_metrics
    from app.web.params import init_request_guards
    from app.web.security import init_security

    init_i18n(app)
    init_security(app)
    init_request_guards(app)
    init_error_handlers(app)
    init_filters(app)
    init_assets(app)  # WhiteNoise: hashed static names, .br/.gz
    init_metrics(app)  # /metrics (guarded)
    init_error_tracking(app)  # Sentry when SENTRY_DSN is set
    _register_blueprints(app)

    from app.admin import init_admin

    init_admin(app)

    from app.cli import register_cli

    register_cli(app)
    from app.automations import init_app as init_automations

    init_automations(app)
    from app.reports import init_app as init_reports

    init_reports(app)
    from app.waitlist import init_app as init_waitlist

    init_waitlist(app)

    from app.ai import init_app as init_ai

    init_ai(app)
    return app


def _init_logging(app: Flask) -> None:
    from app.core.logs import configure

    level = getattr(logging, app.config["LOG_LEVEL"], logging.INFO)
    configure(level, app.config["LOG_FORMAT"])
    app.logger.setLevel(level)


def _init_login(app: Flask, login_manager) -> None:
    from app.auth.models import User
    from app.extensions import db
    from app.web.errors import unauthorized_response

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load(user_id: str):
        ident, _, version = (user_id or "").partition(":")
        if not (ident.isascii() and ident.isdigit() and (not version or (version.isascii() and version.isdigit()))):
            return None
        user = db.session.get(User, int(ident))
        if user is None or not user.can_log_in or int(version or 0) != user.session_version:
            return None  # a session from before a logout or password change
        return user

    @login_manager.request_loader
    def _bearer(request):
        from app.api.auth import load_token_user

        return load_token_user(request)

    login_manager.unauthorized_handler(unauthorized_response)


def _register_blueprints(app: Flask) -> None:
    from app.auth.views import bp as auth_bp
    from app.calendars.views import bp as calendars_bp
    from app.comms import views as comms_views
    from app.crm.api_views import bp as crm_api_bp
    from app.crm.views import bp as crm_bp
    from app.frontdesk.client_views import bp as clients_bp
    from app.frontdesk.views import bp as frontdesk_bp
    from app.reports.views import bp as reports_bp
    from app.sales.fake_flow_views import bp as fake_flow_bp
    from app.sales.views import bp as payments_bp
    from app.shop.views import bp as shop_bp
    from app.staff.settings_views import bp as settings_bp
    from app.staff.views import bp as staff_bp
    from app.waitlist.views import bp as waitlist_bp
    from app.waitlist.views import desk_bp as waitlist_desk_bp
    from app.web.health_views import bp as health_bp
    from app.web.media_views import bp as media_bp
    from app.webhooks.views import bp as webhooks_bp

    for bp in (
        health_bp,
        media_bp,
        auth_bp,
        shop_bp,
        payments_bp,
        fake_flow_bp,
        staff_bp,
        settings_bp,
        frontdesk_bp,
        reports_bp,
        comms_views.bp,
        comms_views.clients_bp,
        comms_views.orders_bp,
        comms_views.public_bp,
        comms_views.api_bp,
        clients_bp,
        crm_bp,
        crm_api_bp,
        webhooks_bp,
        calendars_bp,
        waitlist_bp,
        waitlist_desk_bp,
    ):
        app.register_blueprint(bp)
    from app.api.setup import init_api  # after the shop: the API reuses its views' module-level names

    init_api(app)
