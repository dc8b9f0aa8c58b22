"""Settings for the test suite: the real settings with development defaults and fast hashing.

The database still comes from DATABASE_URL, so the same suite runs on SQLite and PostgreSQL.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SMS_BACKEND", "shouhou.core.sms.FakeSmsBackend")
os.environ.setdefault("TASK_BACKEND", "immediate")
# Live pages in-process (the Redis backend has its own tests against a real Redis).
os.environ.setdefault("LIVE_BACKEND", "memory")
# No idle database reads from open streams: the browser tests' live server shares one in-memory
# SQLite connection between its threads (the poll has its own test).
os.environ.setdefault("LIVE_POLL_SECONDS", "0")
# Tests see the database on every read (the caches have their own tests).
os.environ.setdefault("API_TOKEN_CACHE_SECONDS", "0")
os.environ.setdefault("CATALOG_CACHE_SECONDS", "0")

from shouhou.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
