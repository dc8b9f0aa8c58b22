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

# Test-only probe consumers (shouhou.notifications.probe): their table exists in test databases;
# the consumers register only in a worker started with SHOUHOU_PROBE_CONSUMERS=1.
INSTALLED_APPS = [*INSTALLED_APPS, "shouhou.notifications.probe"]  # noqa: F405
SHOUHOU_PROBE_CONSUMERS = os.environ.get("SHOUHOU_PROBE_CONSUMERS") == "1"
