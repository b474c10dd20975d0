"""Configuration: every setting comes from an environment variable (see docs/CONFIGURATION.md).

`APP_ENV` selects the mode: production (default), development (`make run`) or test.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

DEV_SECRET_KEY = "dev-insecure-key-change-me"
# Keys published in this repository (docs, .env.example, tests, benchmarks): refused in production (H3).
KNOWN_SECRET_KEYS = frozenset(
    {
        DEV_SECRET_KEY,
        "replace-with-a-long-random-string",
        "test-secret-key",
        "bench-secret-key",
        "change-me",
        "changeme",
        "secret",
        "secret-key",
        "your-secret-key",
    }
)
MIN_SECRET_KEY_BYTES = 32
GENERATE_KEY_HINT = 'genere una con: python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
FAKE_BACKENDS = ("fake", "console")


class ConfigError(RuntimeError):
    """A setting the current mode refuses; the message names it (wsgi.py prints it and exits)."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"La variable {name} debe ser un número entero.") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"La variable {name} debe ser un número (segundos).") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "si", "sí", "on"}


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def normalise_database_url(url: str) -> str:
    """Accept `postgres://` (Heroku style) and relative SQLite paths (relative to the project)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url[len("sqlite:///") :]
        if rel and rel != ":memory:":
            return _sqlite_url(BASE_DIR / rel)
    return url


DEMO_BANK_TRANSFER_INSTRUCTIONS = (
    "Banco de ejemplo (demo)\nCuenta corriente N° 00-000-00000-0\nTitular: Aremko SpA · RUT 76.000.000-0\n"
    "E-mail del comprobante: ventas@aremko.cl"
)


class Config:
    APP_ENV = "production"
    DEBUG = False
    TESTING = False

    # Business constants (spec README §4); admin overrides come later through Setting.
    CART_HOLD_MINUTES = 15
    WAITLIST_OFFER_MINUTES = 20  # self-service.md §4: how long a waitlist offer holds the freed place
    FLOW_PAYMENT_TTL_MINUTES = 60
    TRANSFER_PAYMENT_TTL_HOURS = 0
    BOOKING_MIN_LEAD_MINUTES = 0
    BOOKING_HORIZON_DAYS = 365
    GIFTCARD_VALIDITY_DAYS = 365
    GIFTCARD_MAX_AMOUNT = 1_000_000
    RECEPTION_MAX_DISCOUNT_PERCENT = 20
    SEGMENT_VISITS_REGULAR = 2
    SEGMENT_VISITS_VIP = 6
    SEGMENT_SPEND_MEDIUM = 50000
    SEGMENT_SPEND_HIGH = 150000
    QUIET_HOURS_START = "09:00"
    QUIET_HOURS_END = "20:00"
    UNSAFE_OVERRIDES: list[str] = []  # production overrides in force (set by validate, reported by /readyz)

    def __init__(self) -> None:
        env = self.APP_ENV
        self.SECRET_KEY = env_str("SECRET_KEY") or None
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(env_str("DATABASE_URL", "sqlite:///instance/aremko.db"))
        self.SQLALCHEMY_ENGINE_OPTIONS = self._engine_options(self.SQLALCHEMY_DATABASE_URI)
        self.PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.TRUSTED_HOSTS = [h.strip() for h in env_str("TRUSTED_HOSTS").split(",") if h.strip()] or None
        self.CORS_ALLOWED_ORIGINS = [
            o.strip().rstrip("/") for o in env_str("CORS_ALLOWED_ORIGINS").split(",") if o.strip()
        ]
        self.PROXY_FIX_X_FOR = env_int("PROXY_FIX_X_FOR", 0)
        self.PROXY_FIX_X_PROTO = env_int("PROXY_FIX_X_PROTO", 0)
        self.SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", env == "production")
        # Explicit, named overrides for a local production-like stack (docs/OPERATIONS.md); /readyz reports them.
        self.ALLOW_FAKE_BACKENDS_IN_PRODUCTION = env_bool("ALLOW_FAKE_BACKENDS_IN_PRODUCTION", False)
        self.ALLOW_INSECURE_COOKIES_IN_PRODUCTION = env_bool("ALLOW_INSECURE_COOKIES_IN_PRODUCTION", False)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_LIFETIME_HOURS = env_int("SESSION_LIFETIME_HOURS", 12)
        self.PERMANENT_SESSION_LIFETIME = self.SESSION_LIFETIME_HOURS * 3600
        # The front desk keeps one screen open all day: the CSRF token lives as long as the session.
        self.WTF_CSRF_TIME_LIMIT = self.PERMANENT_SESSION_LIFETIME
        self.LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
        self.LOG_FORMAT = env_str("LOG_FORMAT", "text")
        # Operations (docs/OPERATIONS.md "Metrics", "Error tracking"): /metrics answers only from these networks or
        # with `Authorization: Bearer METRICS_TOKEN`; Sentry is on when SENTRY_DSN is set (personal data scrubbed).
        self.METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
        self.METRICS_ALLOWED_NETWORKS = env_str(
            "METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
        )
        self.METRICS_TOKEN = env_str("METRICS_TOKEN") or None
        self.SENTRY_DSN = env_str("SENTRY_DSN") or None
        self.SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", env)
        self.SENTRY_TRACES_SAMPLE_RATE = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0)
        self.MEDIA_ROOT = str(Path(env_str("MEDIA_ROOT", str(INSTANCE_DIR / "media"))).resolve())
        self.IMPORT_DIR = str(Path(env_str("IMPORT_DIR", str(INSTANCE_DIR / "imports"))).resolve())
        self.MAX_CONTENT_LENGTH = 25 * 1024 * 1024
        self.MEDIA_MAX_BYTES = 5 * 1024 * 1024
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", env != "test")
        self.RATELIMIT_STORAGE_URI = env_str("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_HEADERS_ENABLED = False
        # Fail soft (review M1): a Redis outage never turns requests into 500s nor hangs them. Errors are swallowed,
        # limits fall back to each process's memory (a WARNING when it happens; Redis is retried with back-off), and
        # every Redis call gives up after REDIS_SOCKET_TIMEOUT seconds. /readyz reports Redis as not ready.
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.3)
        self.RATELIMIT_STORAGE_OPTIONS = (
            {"socket_timeout": self.REDIS_SOCKET_TIMEOUT, "socket_connect_timeout": self.REDIS_SOCKET_TIMEOUT}
            if self.RATELIMIT_STORAGE_URI.startswith(("redis", "rediss"))
            else {}
        )
        # /readyz compares alembic_version with the migration head (off in tests, whose schema comes from
        # create_all; the readiness tests turn it on).
        self.READYZ_CHECK_MIGRATIONS = True
        # wrong bearer tokens, X-API-KEY and SMS tokens per IP (app/api/credentials.py)
        self.CREDENTIAL_FAILURE_LIMIT = env_str("CREDENTIAL_FAILURE_LIMIT", "10 per minute")
        self.SCHEDULER_ENABLED = env_bool("SCHEDULER_ENABLED", env == "development")
        self.DEMO_PASSWORD = env_str("DEMO_PASSWORD") or None
        self.FLOW_MODE = env_str("FLOW_MODE", "off" if env == "production" else "fake")
        self.SMS_BACKEND = env_str("SMS_BACKEND", "redvoiss" if env == "production" else "fake")
        self.EMAIL_BACKEND = env_str("EMAIL_BACKEND", "smtp" if env == "production" else "fake")
        self.WEBHOOK_BACKEND = env_str("WEBHOOK_BACKEND", "http" if env == "production" else "fake")
        self.WEBHOOK_ALLOW_HTTP = env == "development"  # webhook URLs must be https except in development
        # internal webhook targets (host names or CIDRs, comma-separated) that the SSRF guard lets through
        self.WEBHOOK_ALLOWED_HOSTS = env_str(
            "WEBHOOK_ALLOWED_HOSTS", "localhost,127.0.0.0/8,::1" if env == "development" else ""
        )
        for key in (
            "FLOW_API_KEY",
            "FLOW_SECRET_KEY",
            "FLOW_CREATE_API_URL",
            "FLOW_STATUS_API_URL",
            "FLOW_CONFIRMATION_URL",
            "FLOW_RETURN_URL",
            "BANK_TRANSFER_INSTRUCTIONS",
            "TERMS_TEXT",
            "PRIVACY_TEXT",
        ):
            setattr(self, key, env_str(key))
        if env == "development" and not self.BANK_TRANSFER_INSTRUCTIONS:  # the demo shows what customers will see
            self.BANK_TRANSFER_INSTRUCTIONS = DEMO_BANK_TRANSFER_INSTRUCTIONS
        self.BUSINESS_NAME = env_str("BUSINESS_NAME", "Aremko Aguas Calientes & Spa")
        self.BUSINESS_EMAIL = env_str("BUSINESS_EMAIL", "ventas@aremko.cl")
        self.BUSINESS_WHATSAPP = env_str("BUSINESS_WHATSAPP", "+56957902525")
        self.BUSINESS_ADDRESS = env_str("BUSINESS_ADDRESS", "Río Pescado Km 4, Puerto Varas")
        self.BUSINESS_WEBSITE = env_str("BUSINESS_WEBSITE", "https://www.aremko.cl")
        for key in (
            "CART_HOLD_MINUTES",
            "WAITLIST_OFFER_MINUTES",
            "FLOW_PAYMENT_TTL_MINUTES",
            "TRANSFER_PAYMENT_TTL_HOURS",
            "BOOKING_MIN_LEAD_MINUTES",
            "BOOKING_HORIZON_DAYS",
            "GIFTCARD_VALIDITY_DAYS",
            "GIFTCARD_MAX_AMOUNT",
            "RECEPTION_MAX_DISCOUNT_PERCENT",
            "SEGMENT_VISITS_REGULAR",
            "SEGMENT_VISITS_VIP",
            "SEGMENT_SPEND_MEDIUM",
            "SEGMENT_SPEND_HIGH",
        ):
            setattr(self, key, env_int(key, getattr(type(self), key)))
        self.QUIET_HOURS_START = env_str("QUIET_HOURS_START", self.QUIET_HOURS_START)
        self.QUIET_HOURS_END = env_str("QUIET_HOURS_END", self.QUIET_HOURS_END)
        self.AUTOMATION_API_KEY = env_str("AUTOMATION_API_KEY") or None  # unset: automation API answers 503
        self.CAMPAIGN_ATTRIBUTION_DAYS = env_int("CAMPAIGN_ATTRIBUTION_DAYS", 30)
        self._init_comms(env)
        self._init_automations()
        self._init_ai(env)

    def _init_comms(self, env: str) -> None:
        """Communications (spec communications.md, integrations.md §2–3)."""
        self.COMMUNICATION_SMS_ENABLED = env_bool("COMMUNICATION_SMS_ENABLED", True)
        self.COMMUNICATION_EMAIL_ENABLED = env_bool("COMMUNICATION_EMAIL_ENABLED", True)
        for key, default in (
            ("SMS_DAILY_LIMIT_PER_CLIENT", 2),
            ("SMS_MONTHLY_LIMIT_PER_CLIENT", 8),
            ("EMAIL_WEEKLY_LIMIT_PER_CLIENT", 1),
            ("EMAIL_MONTHLY_LIMIT_PER_CLIENT", 4),
            ("CONFIRMATION_DEBOUNCE_SECONDS", 60),
            ("SMS_COST_CLP", 12),
            ("SMS_MONTHLY_BUDGET_CLP", 0),
            ("EMAIL_PORT", 587),
            ("DISPATCH_BATCH_SIZE", 200),
        ):
            setattr(self, key, env_int(key, default))
        self.SMS_STRIP_ACCENTS = env_bool("SMS_STRIP_ACCENTS", True)
        self.REDVOISS_API_URL = env_str("REDVOISS_API_URL", "https://sms.lanube.cl/services/rest").rstrip("/")
        self.REDVOISS_USERNAME = env_str("REDVOISS_USERNAME")
        self.REDVOISS_PASSWORD = env_str("REDVOISS_PASSWORD")
        self.EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
        self.EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
        self.EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
        self.EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
        self.VENTAS_FROM_EMAIL = env_str("VENTAS_FROM_EMAIL", "ventas@aremko.cl")
        self.DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "comunicaciones@aremko.cl")
        self.SMS_INBOUND_TOKEN = env_str("SMS_INBOUND_TOKEN")

    def _init_ai(self, env: str) -> None:
        """AI module (spec ai.md, integrations.md §6–7); docs/AI.md."""
        self.AI_FEATURES_ENABLED = env_bool("AI_FEATURES_ENABLED", False)
        self.AI_ALLOWED_ROLES = [
            r.strip() for r in env_str("AI_ALLOWED_ROLES", "admin,gerente,marketing").split(",") if r.strip()
        ]
        self.AI_LLM_BACKEND = env_str("AI_LLM_BACKEND", "deepseek" if env == "production" else "fake").lower()
        self.AI_BASE_URL = env_str("AI_BASE_URL", "https://api.deepseek.com").rstrip("/")
        self.AI_MODEL = env_str("AI_MODEL", "deepseek-chat")
        self.DEEPSEEK_API_KEY = env_str("DEEPSEEK_API_KEY")
        self.AI_TIMEOUT_SECONDS = env_float("AI_TIMEOUT_SECONDS", 30.0)
        self.AI_MAX_RETRIES = env_int("AI_MAX_RETRIES", 2)
        self.AI_MAX_TOKENS = env_int("AI_MAX_TOKENS", 2048)
        self.AI_DATABASE_URL = env_str("AI_DATABASE_URL") or None
        self.AI_QUERY_TIMEOUT_SECONDS = env_int("AI_QUERY_TIMEOUT_SECONDS", 5)
        self.AI_SQL_ROW_LIMIT = env_int("AI_SQL_ROW_LIMIT", 1000)
        self.AI_PRICE_INPUT_CLP_PER_1K_TOKENS = env_str("AI_PRICE_INPUT_CLP_PER_1K_TOKENS", "0.3")
        self.AI_PRICE_OUTPUT_CLP_PER_1K_TOKENS = env_str("AI_PRICE_OUTPUT_CLP_PER_1K_TOKENS", "1.1")
        self.AI_DAILY_COST_LIMIT_CLP = env_int("AI_DAILY_COST_LIMIT_CLP", 5000)
        self.AI_USER_DAILY_COST_LIMIT_CLP = env_int("AI_USER_DAILY_COST_LIMIT_CLP", 1000)
        self.AI_LOG_RETENTION_DAYS = env_int("AI_LOG_RETENTION_DAYS", 30)
        self.MANYCHAT_API_TOKEN = env_str("MANYCHAT_API_TOKEN")
        self.MANYCHAT_API_URL = env_str("MANYCHAT_API_URL", "https://api.manychat.com").rstrip("/")
        self.COMMUNICATION_WHATSAPP_ENABLED = env_bool("COMMUNICATION_WHATSAPP_ENABLED", True)

    def _init_automations(self) -> None:
        """Automatic messages (spec communications.md §4, README §4, deployment.md §2)."""
        for key, default in (
            ("REMINDER_MIN_LEAD_HOURS", 12),
            ("REACTIVATION_DAYS", 90),
            ("REACTIVATION_MAX_PER_RUN", 50),
            ("REACTIVATION_GIFTCARD_AMOUNT", 10000),
            ("REACTIVATION_GIFTCARD_VALID_DAYS", 30),
            ("BIRTHDAY_DISCOUNT_PERCENT", 20),
            ("BIRTHDAY_DISCOUNT_VALID_DAYS", 30),
        ):
            setattr(self, key, env_int(key, default))
        for key in ("SURVEY_PUBLIC_BASE_URL", "TRIPADVISOR_URL", "NEWSLETTER_VIP_BODY"):
            setattr(self, key, env_str(key))
        self.REPORT_EMAIL_RECIPIENTS = [r.strip() for r in env_str("REPORT_EMAIL_RECIPIENTS").split(",") if r.strip()]

    @staticmethod
    def _engine_options(url: str) -> dict:
        if url.startswith("sqlite"):
            return {}
        return {
            "pool_size": env_int("DB_POOL_SIZE", 5),
            "max_overflow": env_int("DB_MAX_OVERFLOW", 10),
            # no pre-ping round trip per request; connections are recycled before servers drop idle ones
            "pool_recycle": 1800,
        }

    def validate(self) -> None:
        """Production refuses unsafe settings at start (H3, M3, L3): the process exits naming the setting."""
        key = self.SECRET_KEY or ""
        if not key:
            raise ConfigError(f"SECRET_KEY es obligatorio en producción; {GENERATE_KEY_HINT}")
        if key.strip() in KNOWN_SECRET_KEYS or key.strip().lower().startswith(("replace-with", "change-me")):
            raise ConfigError(
                "SECRET_KEY tiene un valor publicado (de ejemplo o de desarrollo) y no sirve en "
                f"producción; {GENERATE_KEY_HINT}"
            )
        if len(key.encode()) < MIN_SECRET_KEY_BYTES or len(set(key)) < 8:
            raise ConfigError(
                f"SECRET_KEY debe tener al menos {MIN_SECRET_KEY_BYTES} bytes aleatorios en "
                f"producción; {GENERATE_KEY_HINT}"
            )
        fakes = self.fake_backends()
        if fakes and not self.ALLOW_FAKE_BACKENDS_IN_PRODUCTION:
            raise ConfigError(
                f"{', '.join(fakes)} no se permite en producción (cualquiera podría simular pagos o "
                "mensajes). Configure el proveedor real o, solo en una copia local, defina "
                "ALLOW_FAKE_BACKENDS_IN_PRODUCTION=1."
            )
        if not self.SESSION_COOKIE_SECURE and not self.ALLOW_INSECURE_COOKIES_IN_PRODUCTION:
            raise ConfigError(
                "SESSION_COOKIE_SECURE=false no se permite en producción (cookies de sesión sin "
                "HTTPS). Quítelo o, solo para pruebas locales por http, defina "
                "ALLOW_INSECURE_COOKIES_IN_PRODUCTION=1."
            )
        self.STARTUP_WARNINGS = [
            f"{name} en producción: backend de prueba permitido por ALLOW_FAKE_BACKENDS_IN_PRODUCTION=1."
            for name in fakes
        ]
        if not self.SESSION_COOKIE_SECURE:
            self.STARTUP_WARNINGS.append(
                "SESSION_COOKIE_SECURE=false en producción: permitido por ALLOW_INSECURE_COOKIES_IN_PRODUCTION=1."
            )
        for name in ("AUTOMATION_API_KEY", "SMS_INBOUND_TOKEN"):  # guessable shared secrets (security review L5)
            if getattr(self, name) and len(getattr(self, name)) < 24:
                raise ConfigError(f"{name} debe tener al menos 24 caracteres en producción")
        self.UNSAFE_OVERRIDES = self.unsafe_overrides()

    def fake_backends(self) -> list[str]:
        """`NAME=value` of every fake outside-world backend configured (payments, SMS, e-mail, webhooks)."""
        return [
            f"{name}={value}"
            for name, value in (
                ("FLOW_MODE", self.FLOW_MODE),
                ("SMS_BACKEND", self.SMS_BACKEND),
                ("EMAIL_BACKEND", self.EMAIL_BACKEND),
                ("WEBHOOK_BACKEND", self.WEBHOOK_BACKEND),
            )
            if value in FAKE_BACKENDS
        ]

    def unsafe_overrides(self) -> list[str]:
        """The production overrides in force, for /readyz (empty outside production)."""
        if self.APP_ENV != "production":
            return []
        found = []
        if self.ALLOW_FAKE_BACKENDS_IN_PRODUCTION and self.fake_backends():
            found.append("ALLOW_FAKE_BACKENDS_IN_PRODUCTION")
        if self.ALLOW_INSECURE_COOKIES_IN_PRODUCTION and not self.SESSION_COOKIE_SECURE:
            found.append("ALLOW_INSECURE_COOKIES_IN_PRODUCTION")
        return found


class ProdConfig(Config):
    APP_ENV = "production"


class DevConfig(Config):
    APP_ENV = "development"
    DEBUG = False  # the reloader would start the scheduler twice; use `flask run --debug` by hand

    def validate(self) -> None:
        if not self.SECRET_KEY:
            self.SECRET_KEY = DEV_SECRET_KEY
            self.INSECURE_KEY_WARNING = True


class TestConfig(DevConfig):
    APP_ENV = "test"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        url = env_str("TEST_DATABASE_URL")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(url) if url else "sqlite://"
        self.SQLALCHEMY_ENGINE_OPTIONS = self._engine_options(self.SQLALCHEMY_DATABASE_URI)
        self.SERVER_NAME = None
        self.SCHEDULER_ENABLED = False
        self.RATELIMIT_ENABLED = False
        self.READYZ_CHECK_MIGRATIONS = False


CONFIGS = {"production": ProdConfig, "development": DevConfig, "test": TestConfig}


def load_config(name: str | None = None) -> Config:
    """Build the configuration object for `name` (default: the `APP_ENV` variable)."""
    mode = (name or env_str("APP_ENV", "production")).strip().lower()
    try:
        cls = CONFIGS[mode]
    except KeyError as exc:
        raise ConfigError(f"APP_ENV desconocido: {mode!r}") from exc
    cfg = cls()
    cfg.validate()
    return cfg
