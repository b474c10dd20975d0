"""The AI module (spec ai.md): business questions answered from approved queries, next-best offers and a campaign
copilot — private, capped and audited. Off unless AI_FEATURES_ENABLED: then nothing is registered (404, no menu)."""

from __future__ import annotations

from datetime import date


def init_app(app) -> None:
    app.add_template_test(lambda v: isinstance(v, date), "date_value")
    if not app.config.get("AI_FEATURES_ENABLED"):
        return
    from app.ai.views import bp

    app.register_blueprint(bp)

    def ai_features(user) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and user.role in app.config["AI_ALLOWED_ROLES"]

    app.add_template_global(ai_features, "ai_features")
