"""Qiyue settings: environment only.

Every value comes from an environment variable with a safe default for one machine;
bad values stop the process with a message naming the variable (see ``qiyue.lib.env``).
The README lists every variable.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from qiyue.lib.crypto import Keyring, KeyringError
from qiyue.lib.env import EnvError, env_bool, env_choice, env_int, env_list, env_path, env_str
from qiyue.lib.storage_url import storage_from_url

try:
    DATA_DIR = env_path("QIYUE_DATA_DIR", Path.cwd() / "var")
    DEBUG = env_bool("QIYUE_DEBUG", False)
    HTTPS = env_bool("QIYUE_HTTPS", False)
    _secret = env_str("QIYUE_SECRET_KEY", "")
    _database_url = env_str("DATABASE_URL", "")
    ALLOWED_HOSTS = env_list("QIYUE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
    CSRF_TRUSTED_ORIGINS = env_list("QIYUE_CSRF_TRUSTED_ORIGINS", [])
    SESSION_COOKIE_AGE = env_int("QIYUE_SESSION_AGE", 8 * 3600, minimum=300)
    LOGIN_MAX_FAILURES = env_int("QIYUE_LOGIN_MAX_FAILURES", 5, minimum=1)
    LOGIN_LOCKOUT_SECONDS = env_int("QIYUE_LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
    LANGUAGE_CODE = env_choice("QIYUE_LANGUAGE", "zh-hans", ["zh-hans", "en"])
    TIME_ZONE = env_str("QIYUE_TIME_ZONE", "Asia/Shanghai")
    # Connections are kept between requests (each server thread holds one), checked
    # before reuse: opening one per request cost more than the list API's query
    # (bench/api_list.py). 0 closes them after every request.
    DB_CONN_MAX_AGE = env_int("QIYUE_DB_CONN_MAX_AGE", 300, minimum=0)
    LOG_LEVEL = env_choice(
        "QIYUE_LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
    )
    API_PAGE_SIZE_MAX = env_int("QIYUE_API_PAGE_SIZE_MAX", 200, minimum=1, maximum=1000)
    _master_key = env_str("QIYUE_MASTER_KEY", "")
    _master_key_file = env_str("QIYUE_MASTER_KEY_FILE", "")
    _storage_url = env_str("QIYUE_STORAGE_URL", "")
    UPLOAD_MAX_BYTES = env_int("QIYUE_UPLOAD_MAX_BYTES", 100 * 1024 * 1024, minimum=1)
    WATERMARK_LEVELS = env_list("QIYUE_WATERMARK_LEVELS", ["internal", "confidential", "secret"])
    if WATERMARK_LEVELS == ["none"]:
        WATERMARK_LEVELS = []
    _unknown_levels = set(WATERMARK_LEVELS) - {"public", "internal", "confidential", "secret"}
    if _unknown_levels:
        raise EnvError(
            f"QIYUE_WATERMARK_LEVELS has unknown levels {', '.join(sorted(_unknown_levels))}; "
            "use public, internal, confidential, secret (comma-separated) or none"
        )
    _queue_url = env_str("QIYUE_QUEUE_URL", "")
    QUEUE_NAME = env_str("QIYUE_QUEUE_NAME", "qiyue")
    JOBS_IMMEDIATE = env_bool("QIYUE_JOBS_IMMEDIATE", False)
except EnvError as exc:
    raise ImproperlyConfigured(str(exc)) from None

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The configured key, or one generated once and kept in the data folder."""
    if _secret:
        return _secret
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _create_once(path: Path, content: str) -> bool:
    """Write a private file complete, or not at all when another process won the race
    (os.link refuses an existing name): two processes never use two different keys."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return True
    finally:
        os.unlink(tmp)


def _master_keyring() -> Keyring:
    """Master keys that wrap the documents' data keys (see ``qiyue.lib.crypto``).

    ``QIYUE_MASTER_KEY`` or the file named by ``QIYUE_MASTER_KEY_FILE`` hold
    ``[id:]base64key[,[id:]base64key…]``, the first key current. Without either, a key is
    generated once into ``DATA_DIR/master.key``; losing that file loses every document.
    """
    if _master_key and _master_key_file:
        raise ImproperlyConfigured("set QIYUE_MASTER_KEY or QIYUE_MASTER_KEY_FILE, not both")
    name, text = "QIYUE_MASTER_KEY", _master_key
    if not text:
        if _master_key_file:
            name, path = "QIYUE_MASTER_KEY_FILE", Path(_master_key_file).expanduser()
            if not path.is_file():
                raise ImproperlyConfigured(f"QIYUE_MASTER_KEY_FILE={path}: no such file")
        else:
            name, path = "the generated master key file", DATA_DIR / "master.key"
            if not path.exists() and _create_once(path, Keyring.generate_spec() + "\n"):
                print(
                    f"qiyue: generated the master key {path}; back it up apart from the "
                    "data, or set QIYUE_MASTER_KEY / QIYUE_MASTER_KEY_FILE",
                    file=sys.stderr,
                )
        text = path.read_text()
    try:
        return Keyring.parse(text)
    except KeyringError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None


MASTER_KEYRING = _master_keyring()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "qiyue.accounts",
    "qiyue.audit",
    "qiyue.parties",
    "qiyue.contracts",
    "qiyue.documents",
    "qiyue.search",
    "qiyue.review",
    "qiyue.workdays",
    "qiyue.notifications",
    "qiyue.compliance",
    "qiyue.approvals",
    "qiyue.obligations",
    "qiyue.reminders",
    "qiyue.web",
    "qiyue.api",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "qiyue.urls"
WSGI_APPLICATION = "qiyue.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qiyue.web.context.navigation",
            ],
        },
    }
]

if _database_url:
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str(
            "QIYUE_TEST_DATABASE", "test_qiyue"
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "qiyue.sqlite3"),
            # A file, not Django's shared-cache in-memory default: tests then run with
            # the same WAL + IMMEDIATE locking as production, and concurrent writers
            # queue on the busy timeout instead of failing with "table is locked".
            "TEST": {"NAME": str(DATA_DIR / "test_qiyue.sqlite3")},
            "CONN_MAX_AGE": DB_CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": True,
        }
    }

SQLITE_MMAP_BYTES = 2 * 1024**3

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside one writer; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue on the busy timeout instead of failing with "database is locked"
    # when a read transaction tries to upgrade.
    # mmap_size: reads come straight from the file mapped in memory, shared by every
    # connection through the operating system's page cache, instead of a read() into
    # each connection's own 2 MB cache. A search's permission check reads one contract
    # row per match, in id order scattered over the table: 1.8 → 1.0 ms for "违约金" as a
    # sales person on 100,000 contracts (decision 0010). SQLite caps it at 2 GiB.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            f"PRAGMA mmap_size={SQLITE_MMAP_BYTES};"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_EXPIRE_AT_BROWSER_CLOSE = False
SESSION_SAVE_EVERY_REQUEST = True  # idle sessions expire after SESSION_COOKIE_AGE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns when it is missing
WHITENOISE_USE_FINDERS = True

try:
    _documents_storage = storage_from_url("QIYUE_STORAGE_URL", _storage_url, DATA_DIR / "blobs")
except EnvError as exc:
    raise ImproperlyConfigured(str(exc)) from None
# "documents" holds only ciphertext (qiyue.documents.blobs); nothing is served from it.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "documents": _documents_storage,
}
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Uploads go to the data folder (private), streamed through the size limit first; Django
# removes the temporary files at the end of the request.
FILE_UPLOAD_TEMP_DIR = DATA_DIR / "tmp"
FILE_UPLOAD_TEMP_DIR.mkdir(mode=0o700, exist_ok=True)
FILE_UPLOAD_HANDLERS = [
    "qiyue.documents.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Background jobs (text extraction) with Huey: an SQLite queue in the data folder run by
# ``qiyue serve`` itself, or Redis with separate ``qiyue worker`` processes.
if _queue_url.startswith(("redis://", "rediss://", "unix://")):
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": QUEUE_NAME,
        "url": _queue_url,
        "immediate": JOBS_IMMEDIATE,
    }
elif _queue_url in ("", "sqlite") or _queue_url.startswith("sqlite://"):
    _queue_file = _queue_url.removeprefix("sqlite://") or str(DATA_DIR / "queue.sqlite3")
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": QUEUE_NAME,
        "filename": _queue_file,
        "immediate": JOBS_IMMEDIATE,
    }
else:
    raise ImproperlyConfigured(
        f"QIYUE_QUEUE_URL={_queue_url!r} is not supported; use redis://host:port/db "
        "or leave it empty for the SQLite queue in the data folder"
    )
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# E-mail for notifications: the console by default; SMTP when QIYUE_SMTP_HOST is set.
SMTP_HOST = env_str("QIYUE_SMTP_HOST", "")
if SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = SMTP_HOST
    EMAIL_PORT = env_int("QIYUE_SMTP_PORT", 587)
    EMAIL_HOST_USER = env_str("QIYUE_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = env_str("QIYUE_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("QIYUE_SMTP_TLS", True)
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("QIYUE_EMAIL_FROM", "qiyue@localhost")
# Absolute links in e-mails and calendar feeds.
SITE_URL = env_str("QIYUE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One line per finished job would drown the console of `qiyue serve`; failures
        # still show.
        "huey": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_MAX_LIMIT = API_PAGE_SIZE_MAX
