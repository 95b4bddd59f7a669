"""The one settings module. Every value comes from the environment; see .env.example."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from langfuse_ui import embedded_db
from langfuse_ui.config import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    parse_database_url,
)
from langfuse_ui.smtp import parse_smtp_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = embedded_db.data_dir("")

DEBUG = env_bool("DEBUG", False)

DEV_SECRET_KEY = "dev-only-secret-key-not-for-production"  # noqa: S105
DEV_SALT = "dev-only-salt-not-for-production"
SECRET_KEY = env_secret("SECRET_KEY") or env_secret("NEXTAUTH_SECRET") or DEV_SECRET_KEY
SALT = env_secret("SALT") or DEV_SALT
# Encrypts stored LLM connection keys (playground); derived from SECRET_KEY when unset.
ENCRYPTION_KEY = env_secret("ENCRYPTION_KEY")
# How long the playground waits for an LLM connection to answer
PLAYGROUND_TIMEOUT_SECONDS = env_int("LANGFUSE_PLAYGROUND_TIMEOUT_SECONDS", 60, minimum=1)
if not DEBUG:
    if SECRET_KEY == DEV_SECRET_KEY:
        raise ConfigError(
            "SECRET_KEY (or NEXTAUTH_SECRET) is not set: production mode (DEBUG=false) needs a random "
            "secret, for example from `openssl rand -base64 32`; set DEBUG=true for local development"
        )
    if SALT == DEV_SALT:
        raise ConfigError(
            "SALT is not set: production mode (DEBUG=false) needs a random salt for API key hashes, "
            "for example from `openssl rand -base64 32`; keep it stable, changing it invalidates every key"
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*")
PUBLIC_URL = env_str("NEXTAUTH_URL", "").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", PUBLIC_URL)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "allauth",
    "allauth.account",
    "langfuse_ui",
    "accounts",
    "traces",
    "prompts",
    "traces.budgets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "langfuse_ui.middleware.SecurityHeadersMiddleware",
    "langfuse_ui.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "langfuse_ui.middleware.DatabaseUnavailableMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "langfuse_ui.urls"
ASGI_APPLICATION = "langfuse_ui.asgi.application"
WSGI_APPLICATION = "langfuse_ui.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    }
]

# Database: DATABASE_URL, or the embedded cluster in .data/postgres when it is unset.
EMBEDDED_DATABASE = not env_str("DATABASE_URL")
DATABASE_URL = env_str("DATABASE_URL") or embedded_db.database_url(embedded_db.data_dir())
_database = parse_database_url(DATABASE_URL)
_database["OPTIONS"].setdefault("connect_timeout", "5")
if env_bool("DATABASE_POOL", True):
    _database["OPTIONS"]["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1, minimum=0),
        "max_size": env_int("DATABASE_POOL_MAX_SIZE", 20, minimum=1),
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
        # Give up a failing reconnection after 5 s, so the next request retries at once and the
        # pool is back within seconds after an outage (psycopg's default backs off up to minutes).
        "reconnect_timeout": 5,
    }
# The backend fails fast when the database is down (503 + Retry-After instead of a 10 s wait);
# CONN_HEALTH_CHECKS makes the pool test a connection before handing it out (after a restart).
DATABASES = {"default": {"ENGINE": "langfuse_ui.postgresql", "CONN_HEALTH_CHECKS": True, **_database}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# --- Sign-in: django-allauth, email (SMTP), rate limits, SSO (see .env.example) -------------------
LOGIN_URL = "/auth/login/"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/auth/login/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_ALLOW_REGISTRATION = not env_bool("AUTH_DISABLE_SIGNUP", False)
# Sign-in by a code sent to the address; the "code sent" page looks the same for unknown addresses.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 10 * 60
ACCOUNT_PREVENT_ENUMERATION = True
# AUTH_DISABLE_USERNAME_PASSWORD: no password field anywhere (allauth's passwordless mode), so the
# login form only sends codes; new addresses prove ownership with a code before the account exists.
PASSWORD_LOGIN_ENABLED = not env_bool("AUTH_DISABLE_USERNAME_PASSWORD", False)
if PASSWORD_LOGIN_ENABLED:
    ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
else:
    ACCOUNT_SIGNUP_FIELDS = ["email*"]
if env_bool("AUTH_EMAIL_VERIFICATION_REQUIRED", False) or not PASSWORD_LOGIN_ENABLED:
    ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
else:
    ACCOUNT_EMAIL_VERIFICATION = "none"
# Per client IP and per email address ("key"); allauth answers 429 past a limit.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "request_login_code": "20/m/ip,3/m/key",
    "reset_password": "20/m/ip,3/m/key",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
    "manage_email": "10/m/user",
}

# Outgoing email: SMTP_CONNECTION_URL (smtp://user:pass@host:587/?tls=true), console when unset.
DEFAULT_FROM_EMAIL = env_str("EMAIL_FROM_ADDRESS", "langfuse-ui@localhost")
_smtp = parse_smtp_url(env_secret("SMTP_CONNECTION_URL"), "SMTP_CONNECTION_URL")
if _smtp:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _smtp.host
    EMAIL_PORT = _smtp.port
    EMAIL_HOST_USER = _smtp.user
    EMAIL_HOST_PASSWORD = _smtp.password
    EMAIL_USE_TLS = _smtp.use_tls
    EMAIL_USE_SSL = _smtp.use_ssl
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# SSO with any OpenID Connect provider (accounts/oidc.py), on when the client id, secret and issuer
# are set; endpoints come from the issuer's discovery document, fetched on first use.
SSO_ISSUER = env_str("AUTH_CUSTOM_ISSUER").strip().rstrip("/")
OIDC_RP_CLIENT_ID = env_str("AUTH_CUSTOM_CLIENT_ID").strip()
OIDC_RP_CLIENT_SECRET = env_secret("AUTH_CUSTOM_CLIENT_SECRET")
_sso_parts = {"AUTH_CUSTOM_CLIENT_ID": OIDC_RP_CLIENT_ID, "AUTH_CUSTOM_CLIENT_SECRET": OIDC_RP_CLIENT_SECRET}
_sso_parts["AUTH_CUSTOM_ISSUER"] = SSO_ISSUER
SSO_ENABLED = all(_sso_parts.values())
if any(_sso_parts.values()) and not SSO_ENABLED:
    _missing = ", ".join(name for name, value in _sso_parts.items() if not value)
    raise ConfigError(f"SSO is half configured: set {_missing} too (or unset all AUTH_CUSTOM_* variables)")
SSO_NAME = env_str("AUTH_CUSTOM_NAME").strip() or "SSO"
SSO_ALLOWED_DOMAINS = [domain.lower().lstrip("@") for domain in env_list("AUTH_CUSTOM_ALLOWED_DOMAINS")]
SSO_DEFAULT_ORG_ID = env_str("LANGFUSE_DEFAULT_ORG_ID").strip()
SSO_DEFAULT_ORG_ROLE = env_str("LANGFUSE_DEFAULT_ORG_ROLE", "VIEWER").strip().upper() or "VIEWER"
if SSO_DEFAULT_ORG_ROLE not in {"OWNER", "ADMIN", "MEMBER", "VIEWER"}:
    raise ConfigError(
        f"LANGFUSE_DEFAULT_ORG_ROLE={SSO_DEFAULT_ORG_ROLE!r} is not a role: use OWNER, ADMIN, MEMBER or VIEWER"
    )
OIDC_RP_SCOPES = env_str("AUTH_CUSTOM_SCOPE", "openid email profile").strip() or "openid email profile"
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATE_CLASS = "accounts.oidc.SsoStartView"
OIDC_CALLBACK_CLASS = "accounts.oidc.SsoCallbackView"
LOGIN_REDIRECT_URL_FAILURE = LOGIN_URL
LOGOUT_REDIRECT_URL = LOGIN_URL  # /auth/oidc/logout/ (allauth has ACCOUNT_LOGOUT_REDIRECT_URL)
if SSO_ENABLED:
    AUTHENTICATION_BACKENDS.append("accounts.oidc.OidcBackend")
# --- end of sign-in ---------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = (
    env_str("STATIC_ROOT") or None
)  # only `collectstatic` needs it; WhiteNoise serves from the finders
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True  # serve static files without a collectstatic step

SESSION_COOKIE_AGE = env_int("AUTH_SESSION_MAX_AGE", 30 * 24 * 60, minimum=1) * 60

# --- Security headers, cookies, failure rate limits (docs/reliability.md, "Security basics") --------
SERVED_OVER_HTTPS = PUBLIC_URL.startswith("https://")
# Session, CSRF and messages cookies: Secure in production over https, never readable by scripts
# (htmx sends the CSRF token from <body hx-headers>), SameSite=Lax (Strict would drop the session
# when the SSO provider redirects back, and the OIDC state check with it).
SESSION_COOKIE_SECURE = not DEBUG and SERVED_OVER_HTTPS
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# HSTS on https responses only (SecurityMiddleware skips plain http), one year by default when the
# public URL is https; SECURE_HSTS_SECONDS=0 turns it off.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if SERVED_OVER_HTTPS else 0, minimum=0)
# Behind a proxy that terminates TLS: trust its X-Forwarded-Proto only when told to (a client could
# send the header itself). uvicorn already honours it from 127.0.0.1 (FORWARDED_ALLOW_IPS).
if env_bool("LANGFUSE_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"


def _origin(url: str) -> list[str]:
    parts = urlsplit(url.strip())
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme in ("http", "https") and parts.netloc else []


# Sent by langfuse_ui.middleware.SecurityHeadersMiddleware on every response that sets none itself.
# Scripts only from this origin (no inline script, no eval). Styles need 'unsafe-inline': Plotly
# injects <style> elements for its mode bar and hover labels, and the trace timeline positions its
# bars with server-computed style attributes (tests/e2e/test_content_security_policy.py). Images
# may come from any https URL because chat messages show the image URLs applications sent (as
# Langfuse does); media also from the S3 endpoint.
_media_origin = _origin(env_str("LANGFUSE_S3_MEDIA_UPLOAD_ENDPOINT") or env_str("LANGFUSE_S3_ENDPOINT"))
CONTENT_SECURITY_POLICY = "; ".join(
    " ".join([directive, *sources])
    for directive, *sources in [
        ("default-src", "'self'"),
        ("script-src", "'self'"),
        ("style-src", "'self'", "'unsafe-inline'"),
        ("img-src", "'self'", "data:", "blob:", "https:", *_media_origin),
        ("media-src", "'self'", "blob:", "https:", *_media_origin),
        ("font-src", "'self'", "data:"),
        ("connect-src", "'self'"),
        ("object-src", "'none'"),
        ("base-uri", "'self'"),
        # The SSO button's form redirects to the provider, which form-action also governs.
        ("form-action", "'self'", *_origin(SSO_ISSUER)),
        ("frame-ancestors", "'none'"),
    ]
)

# Django's cache lives in PostgreSQL, so allauth's sign-in rate limits (ACCOUNT_RATE_LIMITS) count
# across processes and replicas; the table comes from migration langfuse_ui 0002.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "langfuse_cache",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
}
# Public API: failed authentications (wrong secret key, unknown public key) per client address and
# per public key per minute; past a limit the API answers 429 with Retry-After. 0 turns a limit off.
# Per key is off by default: public keys ship in browser code, and a per-key limit would let anyone
# who reads one lock its applications out of ingestion; secrets are far too long to guess anyway.
API_AUTH_FAILURES_PER_IP = env_int("LANGFUSE_API_AUTH_FAILURES_PER_MINUTE_PER_IP", 60, minimum=0)
API_AUTH_FAILURES_PER_KEY = env_int("LANGFUSE_API_AUTH_FAILURES_PER_MINUTE_PER_KEY", 0, minimum=0)
# --- end of security ---------------------------------------------------------------------------------

# Public API limits
INGESTION_MAX_BODY_BYTES = env_int("LANGFUSE_INGESTION_MAX_BODY_BYTES", 20 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = INGESTION_MAX_BODY_BYTES

# HTTP server (read by `manage.py serve`)
HTTP_KEEPALIVE_TIMEOUT_MS = env_int("LANGFUSE_HTTP_KEEPALIVE_TIMEOUT_MS", 5_000, minimum=0)
# Seconds a uvicorn worker (WEB_CONCURRENCY > 1) may leave its supervisor's ping unanswered before
# it is replaced.
WORKER_HEALTHCHECK_TIMEOUT_SECONDS = env_int("LANGFUSE_WORKER_HEALTHCHECK_TIMEOUT_SECONDS", 30, minimum=1)
HTTP_HEADERS_TIMEOUT_MS = env_int("LANGFUSE_HTTP_HEADERS_TIMEOUT_MS", 6_000, minimum=0)

# Default model prices (loaded at start-up and by `manage.py load_model_prices`)
MODEL_PRICES_FILE = Path(
    env_str("LANGFUSE_MODEL_PRICES_FILE", str(BASE_DIR / "traces" / "model_prices.json"))
)

# Media uploads (traces/storage.py): S3 or MinIO when LANGFUSE_S3_MEDIA_UPLOAD_BUCKET is set,
# otherwise files under MEDIA_LOCAL_ROOT served through signed URLs of this server.
MEDIA_MAX_CONTENT_LENGTH = env_int("LANGFUSE_S3_MEDIA_MAX_CONTENT_LENGTH", 1_000_000_000, minimum=1)
MEDIA_DOWNLOAD_URL_EXPIRY_SECONDS = env_int("LANGFUSE_S3_MEDIA_DOWNLOAD_URL_EXPIRY_SECONDS", 3600, minimum=1)
MEDIA_UPLOAD_URL_EXPIRY_SECONDS = 3600
MEDIA_LOCAL_ROOT = DATA_DIR / "media"
MEDIA_S3_BUCKET = env_str("LANGFUSE_S3_MEDIA_UPLOAD_BUCKET")
MEDIA_S3 = {
    "region": env_str("LANGFUSE_S3_MEDIA_UPLOAD_REGION") or env_str("LANGFUSE_S3_REGION", "us-east-1"),
    "endpoint": env_str("LANGFUSE_S3_MEDIA_UPLOAD_ENDPOINT") or env_str("LANGFUSE_S3_ENDPOINT"),
    "access_key_id": env_secret("LANGFUSE_S3_MEDIA_UPLOAD_ACCESS_KEY_ID")
    or env_secret("LANGFUSE_S3_ACCESS_KEY_ID"),
    "secret_access_key": env_secret("LANGFUSE_S3_MEDIA_UPLOAD_SECRET_ACCESS_KEY")
    or env_secret("LANGFUSE_S3_SECRET_ACCESS_KEY"),
    "force_path_style": env_bool(
        "LANGFUSE_S3_MEDIA_UPLOAD_FORCE_PATH_STYLE"
        if env_str("LANGFUSE_S3_MEDIA_UPLOAD_FORCE_PATH_STYLE").strip()
        else "LANGFUSE_S3_FORCE_PATH_STYLE"
    ),
    "prefix": env_str("LANGFUSE_S3_MEDIA_UPLOAD_PREFIX"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LANGFUSE_LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
