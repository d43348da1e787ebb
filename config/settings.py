"""mfagate settings. Every value read from the environment is read here, once."""

from pathlib import Path
import secrets

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)


def _development_secret_key() -> str:
    """A key generated once per checkout, kept in var/, for development only."""
    VAR_DIR.mkdir(exist_ok=True)
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in the environment when DEBUG is off; "
            "the generated development key is refused in production."
        )
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver"])
# The https origins browsers post from (e.g. https://mfagate.example.com), needed behind a proxy.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.MfagateAdminConfig",  # django.contrib.admin with mfagate's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "mfa_policies",
    "enrollment",
    "api",
]

MIDDLEWARE = [
    "mfa_policies.access.request_id.RequestIdMiddleware",  # first: every log line carries the id
    "django.middleware.security.SecurityMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "mfa_policies.access.middleware.AccessMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "accounts.context_processors.signup",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent requests in `runserver` and the test server: wait rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# With a per-process cache, revocations reach other processes only if there are none (check E001).
MFAGATE_SINGLE_PROCESS = env.bool("MFAGATE_SINGLE_PROCESS", default=False)
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "mfa_policies.cache_backends.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "mfa_policies.cache_backends.LocMemCache", "LOCATION": "mfagate"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

# django-allauth: email is the sign-in name; no usernames.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# allauth's e-mails say "[<site name>] …", and without the Sites framework the site's name is the
# request's host ("[localhost:8000] …"); they name the product instead (bodies: templates/account/email/).
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[mfagate] "
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Local self sign-up is closed (admins create accounts); enterprise IdPs may provision users.
MFAGATE_OPEN_SIGNUP = env.bool("MFAGATE_OPEN_SIGNUP", default=False)
MFAGATE_ENTERPRISE_SIGNUP = env.bool("MFAGATE_ENTERPRISE_SIGNUP", default=True)
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"

# Access tokens for app sessions (mfa_policies.access.tokens): an EC P-256 private key in PEM; when
# empty, one is generated once into var/jwt-key.pem (mode 0600).
# Every host must sign with the same key: with DEBUG off the generated file is refused (check
# mfagate.E006) unless MFAGATE_ALLOW_GENERATED_JWT_KEY declares a single-host deployment.
MFAGATE_JWT_PRIVATE_KEY = env.str("MFAGATE_JWT_PRIVATE_KEY", default="", multiline=True)
MFAGATE_ALLOW_GENERATED_JWT_KEY = env.bool("MFAGATE_ALLOW_GENERATED_JWT_KEY", default=False)
MFAGATE_JWT_ISSUER = env.str("MFAGATE_JWT_ISSUER", default="http://localhost:8000")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# HTTPS (README "Deployment"). Behind a TLS-terminating proxy that sets X-Forwarded-Proto — and
# overwrites any value a client sent — SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https lets
# Django see the request as secure. Opt-in: without such a proxy a client could claim https.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER is “<META name>,<value>”, e.g. HTTP_X_FORWARDED_PROTO,https")
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (config/csp.py), in the shape of Django 6.0's SECURE_CSP setting. Every
# script is a static file; data reaches them through json_script blocks, which are not executed.
# Enterprise sign-in redirects a form post to the IdP, so its origin must be in form-action
# (CSP_FORM_ACTION, e.g. https://idp.example.com).
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'", *env.list("CSP_FORM_ACTION", default=[])],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files browsers ask for at the site's root (/favicon.ico), served by whitenoise before any view.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
# With DEBUG off, hashed names from `collectstatic` (make serve runs it), which whitenoise serves
# with far-future cache headers; a page naming a file that was not collected fails loudly.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="mfagate <no-reply@mfagate.localhost>")

# django-otp
OTP_TOTP_ISSUER = "mfagate"

# WebAuthn (enrollment/webauthn.py). The RP id is the site's host name; origins are exact.
MFAGATE_WEBAUTHN_RP_ID = env.str("MFAGATE_WEBAUTHN_RP_ID", default="localhost")
MFAGATE_WEBAUTHN_RP_NAME = env.str("MFAGATE_WEBAUTHN_RP_NAME", default="mfagate")
MFAGATE_WEBAUTHN_ORIGINS = env.list("MFAGATE_WEBAUTHN_ORIGINS", default=["http://localhost:8000"])
# Extra attestation roots trusted besides the FIDO metadata (PEM strings or file paths).
MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = env.list("MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS", default=[])


# Everything to stderr with the request id, whatever DEBUG says: Django's default sends
# django.request (every 500, with its traceback) to the console only when DEBUG is on.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "mfa_policies.access.request_id.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",  # stderr
                             "filters": ["request_id"]}},
    "loggers": {
        "mfagate": {"handlers": ["console"], "level": env.str("MFAGATE_LOG_LEVEL", default="INFO")},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
