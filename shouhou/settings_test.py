"""Settings for the test suite: the real settings with development defaults and fast hashing.

The database still comes from DATABASE_URL, so the same suite runs on SQLite and PostgreSQL.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SMS_BACKEND", "shouhou.core.sms.FakeSmsBackend")
os.environ.setdefault("TASK_BACKEND", "immediate")

from shouhou.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# The SQLite test database is a file, not Django's shared-cache in-memory database: with shared
# cache SQLite locks whole tables and ignores the busy timeout ("database table is locked"), so
# tests that race real threads (dispatch/tests/test_slots_concurrency.py) could not run on the
# configuration production uses (WAL, IMMEDIATE, 20 s timeout). One file per process.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"shouhou-test-{os.getpid()}.sqlite3")
    }
