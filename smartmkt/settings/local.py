"""Developer and demo settings: the embedded defaults, DEBUG on unless told otherwise."""

from smartmkt import env
from smartmkt.settings.base import *  # noqa: F403

DEBUG = env.env_bool("DEBUG", True)
