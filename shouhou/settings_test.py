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
os.environ.setdefault("DISPATCH_CACHE_SECONDS", "0")

from shouhou.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not the in-memory database: threads of one test (concurrent grabs, the live
    # server) then meet SQLite's real locking (WAL, IMMEDIATE, busy timeout) instead of the
    # shared-cache table locks that fail at once with "database table is locked".
    # One file per process so parallel runs in different worktrees do not collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
    # Durability does not matter for a throw-away test database: no fsync on commit.
    DATABASES["default"]["OPTIONS"]["init_command"] = (  # noqa: F405
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA foreign_keys=ON;"
    )

# Test-only probe consumers (shouhou.notifications.probe): their table exists in test databases;
# the consumers register only in a worker started with SHOUHOU_PROBE_CONSUMERS=1.
INSTALLED_APPS = [*INSTALLED_APPS, "shouhou.notifications.probe"]  # noqa: F405
SHOUHOU_PROBE_CONSUMERS = os.environ.get("SHOUHOU_PROBE_CONSUMERS") == "1"
