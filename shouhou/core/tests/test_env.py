"""Settings from the environment: typed helpers that fail loudly, and production start-up."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from shouhou.core.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
)

NAME = "SHOUHOU_TEST_SETTING"
REPO_ROOT = Path(__file__).resolve().parents[3]
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}


@pytest.fixture
def unset(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)


# --- env_str -------------------------------------------------------------------------------------


def test_env_str_reads_the_variable(monkeypatch):
    monkeypatch.setenv(NAME, " value ")
    assert env_str(NAME, "default") == " value "


def test_env_str_falls_back_to_the_default(unset):
    assert env_str(NAME, "default") == "default"


def test_env_str_without_default_demands_the_variable(unset):
    with pytest.raises(ImproperlyConfigured) as refused:
        env_str(NAME)
    assert str(refused.value) == f"Set the environment variable {NAME}."


def test_env_str_accepts_an_empty_value(monkeypatch):
    monkeypatch.setenv(NAME, "")
    assert env_str(NAME) == ""


# --- env_bool ------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " On "])
def test_env_bool_true_spellings(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    assert env_bool(NAME, False) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", ""])
def test_env_bool_false_spellings(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    assert env_bool(NAME, True) is False


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_default_when_unset(unset, default):
    assert env_bool(NAME, default) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "y"])
def test_env_bool_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_bool(NAME, False)
    assert str(refused.value) == f"{NAME}={raw!r} is not a boolean; use true or false."


# --- env_int -------------------------------------------------------------------------------------


def test_env_int_reads_an_integer(monkeypatch):
    monkeypatch.setenv(NAME, "300")
    assert env_int(NAME, 60, minimum=60) == 300


def test_env_int_default_when_unset(unset):
    assert env_int(NAME, 60) == 60


@pytest.mark.parametrize("raw", ["abc", "1.5", "", "5m"])
def test_env_int_refuses_a_non_integer(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_int(NAME, 60)
    assert str(refused.value) == f"{NAME}={raw!r} is not an integer."


def test_env_int_refuses_a_value_below_the_minimum(monkeypatch):
    monkeypatch.setenv(NAME, "59")
    with pytest.raises(ImproperlyConfigured) as refused:
        env_int(NAME, 300, minimum=60)
    assert str(refused.value) == f"{NAME}=59 is below the minimum of 60."


def test_env_int_accepts_the_minimum(monkeypatch):
    monkeypatch.setenv(NAME, "60")
    assert env_int(NAME, 300, minimum=60) == 60


# --- env_list and env_choice ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", ["example.com"]),
        ("example.com, www.example.com", ["example.com", "www.example.com"]),
        (" a ,, b ,", ["a", "b"]),
        ("", []),
    ],
)
def test_env_list_splits_on_commas(monkeypatch, raw, expected):
    monkeypatch.setenv(NAME, raw)
    assert env_list(NAME, ["default"]) == expected


def test_env_list_default_when_unset(unset):
    assert env_list(NAME, ["localhost"]) == ["localhost"]


def test_env_choice_accepts_a_listed_value(monkeypatch):
    monkeypatch.setenv(NAME, "immediate")
    assert env_choice(NAME, "database", ("database", "immediate")) == "immediate"


def test_env_choice_default_when_unset(unset):
    assert env_choice(NAME, "database", ("database", "immediate")) == "database"


@pytest.mark.parametrize("raw", ["celery", "Database", ""])
def test_env_choice_refuses_other_values(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_choice(NAME, "database", ("database", "immediate"))
    assert str(refused.value) == f"{NAME}={raw!r} must be one of database, immediate."


# --- database_from_url ---------------------------------------------------------------------------


def test_sqlite_url_gets_wal_immediate_transactions_and_a_busy_timeout():
    config = database_from_url("sqlite:////srv/shouhou/var/db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/srv/shouhou/var/db.sqlite3"
    assert config["OPTIONS"] == SQLITE_OPTIONS


def test_sqlite_busy_timeout_can_be_chosen():
    config = database_from_url("sqlite:////tmp/db.sqlite3", sqlite_timeout=5)
    assert config["OPTIONS"] == SQLITE_OPTIONS | {"timeout": 5}


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_postgres_urls_parse(scheme):
    config = database_from_url(f"{scheme}://shouhou:s3cret@db.internal:6543/shouhou_prod")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == (
        "shouhou_prod",
        "shouhou",
        "s3cret",
    )
    assert (config["HOST"], config["PORT"]) == ("db.internal", 6543)
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (600, False)
    assert config["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}


def test_postgres_prepared_statements_can_be_turned_off_for_a_pooler():
    config = database_from_url("postgres://postgres@127.0.0.1/shouhou", prepare_threshold=None)
    assert config["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": None}


def test_postgres_health_checks_and_connection_age_are_settings():
    config = database_from_url(
        "postgres://postgres@127.0.0.1/shouhou", health_checks=True, conn_max_age=30
    )
    assert (config["CONN_HEALTH_CHECKS"], config["CONN_MAX_AGE"]) == (True, 30)


def test_postgres_url_without_password_or_port():
    config = database_from_url("postgres://postgres@127.0.0.1/shouhou")
    assert (config["USER"], config["HOST"], config["NAME"]) == ("postgres", "127.0.0.1", "shouhou")
    assert config["PASSWORD"] in ("", None)


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/shouhou", "redis://localhost:6379/0", "shouhou.sqlite3", ""]
)
def test_unsupported_database_urls_are_refused(url):
    with pytest.raises(ImproperlyConfigured) as refused:
        database_from_url(url)
    assert str(refused.value) == (
        f"DATABASE_URL={url!r} is not supported; use sqlite:///path or postgres://..."
    )


def test_malformed_database_url_is_refused():
    with pytest.raises(ImproperlyConfigured) as refused:
        database_from_url("postgres://postgres@localhost:notaport/shouhou")
    assert str(refused.value).startswith("DATABASE_URL is not a valid URL: ")


# --- starting in production ----------------------------------------------------------------------


def _production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A clean environment, nothing inherited from the test settings but PATH and locale."""
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "LANG", "LC_ALL"}}
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env |= {
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "shouhou.settings",
        "DEBUG": "false",
        "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "ALLOWED_HOSTS": "example.com",
        "SHOUHOU_VAR_DIR": str(tmp_path / "var"),
    }
    env |= overrides
    return {key: value for key, value in env.items() if value is not None}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_repo_root_is_found():
    assert (REPO_ROOT / "manage.py").is_file()


def test_deploy_check_passes_with_production_settings(tmp_path):
    # given production settings: DEBUG off, a long random key, a host name
    env = _production_env(tmp_path)
    # when Django's deployment checklist runs, failing on any warning
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    # then nothing is found
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_settings_refuse_to_load_without_a_secret_key_when_debug_is_off(tmp_path):
    env = _production_env(tmp_path)
    del env["SECRET_KEY"]
    result = _run(["-c", "import shouhou.settings"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: Set the environment variable SECRET_KEY." in result.stderr


def test_settings_refuse_the_development_key_when_debug_is_off(tmp_path):
    dev_key = "dev-insecure-secret-key-change-me-in-production-0123456789abcdef"
    result = _run(["-c", "import shouhou.settings"], _production_env(tmp_path, SECRET_KEY=dev_key))
    assert result.returncode != 0
    assert "Set SECRET_KEY to a long random value when DEBUG is off." in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean; use true or false."),
        ("SMS_CODE_TTL_SECONDS", "10", "SMS_CODE_TTL_SECONDS=10 is below the minimum of 60."),
        (
            "TASK_BACKEND",
            "celery",
            "TASK_BACKEND='celery' must be one of database, redis, immediate.",
        ),
        (
            "DATABASE_URL",
            "mysql://db/shouhou",
            "DATABASE_URL='mysql://db/shouhou' is not supported",
        ),
        ("REDIS_URL", "localhost:6379", "REDIS_URL='localhost:6379' must start with redis://"),
    ],
)
def test_settings_refuse_a_bad_value_naming_the_variable(tmp_path, variable, value, message):
    result = _run(["-c", "import shouhou.settings"], _production_env(tmp_path, **{variable: value}))
    assert result.returncode != 0
    assert message in result.stderr


def test_settings_load_in_development_without_any_configuration(tmp_path):
    env = _production_env(tmp_path, DEBUG="true")
    del env["SECRET_KEY"]
    del env["ALLOWED_HOSTS"]
    result = _run(
        ["-c", "import shouhou.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS)"],
        env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "True ['127.0.0.1', 'localhost', '[::1]']\n"
