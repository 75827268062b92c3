"""Production settings: DEBUG off, secrets required from the environment."""

from smartmkt import env
from smartmkt.settings.base import *  # noqa: F403

DEBUG = env.env_bool("DEBUG", False)
SECRET_KEY = env.env_required("SECRET_KEY")
SESSION_COOKIE_SECURE = env.env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env.env_bool("CSRF_COOKIE_SECURE", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
