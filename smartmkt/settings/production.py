"""Production settings: DEBUG off; the secret key from SECRET_KEY or a generated, persisted file.

The contract says DATABASE_URL and REDIS_URL are all a production-like run needs, so a missing
SECRET_KEY is not a hard error: a random key is generated once into var/secret_key (mode 0600)
and reused, never a built-in default. Multi-host installs must set SECRET_KEY.
"""

import secrets

from smartmkt import env
from smartmkt.settings.base import *  # noqa: F403
from smartmkt.settings.base import VAR_DIR


def _secret_key() -> str:
    configured = env.env_str("SECRET_KEY")
    if configured:
        return configured
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


DEBUG = env.env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
SESSION_COOKIE_SECURE = env.env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env.env_bool("CSRF_COOKIE_SECURE", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
