"""WeChat and Web Push settings: all or nothing, checked at start-up; the channel wiring."""

from __future__ import annotations

import io

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from shouhou.notifications.providers import (
    private_key_b64,
    public_key_b64,
    vapid_private_key,
    webpush_settings,
    wechat_settings,
)

WECHAT_VARS = ("WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TEMPLATE_IDS", "WECHAT_API_BASE_URL")
PUSH_VARS = ("WEBPUSH_VAPID_PRIVATE_KEY", "WEBPUSH_VAPID_PUBLIC_KEY", "WEBPUSH_VAPID_SUBJECT")
KINDS = frozenset({"assigned", "en_route"})


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in WECHAT_VARS + PUSH_VARS:
        monkeypatch.delenv(name, raising=False)


def test_nothing_configured_means_the_fakes(monkeypatch):
    assert wechat_settings(KINDS).configured is False
    assert webpush_settings().configured is False


def test_wechat_full_configuration(monkeypatch):
    monkeypatch.setenv("WECHAT_APP_ID", "wx1")
    monkeypatch.setenv("WECHAT_APP_SECRET", "s")
    monkeypatch.setenv("WECHAT_TEMPLATE_IDS", "assigned=T1, en_route = T2")
    config = wechat_settings(KINDS)
    assert config.configured is True
    assert config.template_ids == {"assigned": "T1", "en_route": "T2"}
    assert config.base_url == "https://api.weixin.qq.com"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WECHAT_APP_ID": "wx1"}, "set WECHAT_APP_SECRET"),
        ({"WECHAT_APP_SECRET": "s"}, "set WECHAT_APP_ID"),
        ({"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "s"}, "set WECHAT_TEMPLATE_IDS"),
        (
            {"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "s", "WECHAT_TEMPLATE_IDS": "T1"},
            "not kind=template_id",
        ),
        (
            {"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "s", "WECHAT_TEMPLATE_IDS": "nope=T1"},
            "'nope' is not a notification kind",
        ),
    ],
)
def test_wechat_half_configuration_stops_the_start(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        wechat_settings(KINDS)


def _keys():
    key = ec.generate_private_key(ec.SECP256R1())
    return private_key_b64(key), public_key_b64(key)


def test_webpush_full_configuration(monkeypatch):
    private, public = _keys()
    monkeypatch.setenv("WEBPUSH_VAPID_PRIVATE_KEY", private)
    monkeypatch.setenv("WEBPUSH_VAPID_PUBLIC_KEY", public)
    monkeypatch.setenv("WEBPUSH_VAPID_SUBJECT", "mailto:ops@example.com")
    config = webpush_settings()
    assert (config.configured, config.public_key, config.ttl_seconds) == (True, public, 86400)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"WEBPUSH_VAPID_PUBLIC_KEY": None}, "set WEBPUSH_VAPID_PUBLIC_KEY"),
        ({"WEBPUSH_VAPID_SUBJECT": None}, "set WEBPUSH_VAPID_SUBJECT"),
        ({"WEBPUSH_VAPID_PRIVATE_KEY": None}, "set WEBPUSH_VAPID_PRIVATE_KEY"),
        ({"WEBPUSH_VAPID_PRIVATE_KEY": "not-a-key"}, "is not a P-256 private key"),
        ({"WEBPUSH_VAPID_PUBLIC_KEY": "other"}, "does not belong"),
        ({"WEBPUSH_VAPID_SUBJECT": "ops@example.com"}, "must be a mailto:"),
    ],
)
def test_webpush_half_or_wrong_configuration_stops_the_start(monkeypatch, change, message):
    private, public = _keys()
    env = {
        "WEBPUSH_VAPID_PRIVATE_KEY": private,
        "WEBPUSH_VAPID_PUBLIC_KEY": public,
        "WEBPUSH_VAPID_SUBJECT": "mailto:ops@example.com",
        **change,
    }
    for name, value in env.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        webpush_settings()


def test_default_channels_are_the_fakes_without_providers(settings):
    # the test run configures no provider
    assert settings.NOTIFICATION_CHANNELS == {
        "wechat": "shouhou.notifications.channels.FakeWeChatAdapter",
        "webpush": "shouhou.notifications.channels.FakeWebPushAdapter",
    }


def test_webpush_keys_command_prints_a_matching_pair():
    out = io.StringIO()
    call_command("webpush_keys", "--subject", "mailto:me@example.com", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines())
    assert (
        public_key_b64(vapid_private_key(lines["WEBPUSH_VAPID_PRIVATE_KEY"]))
        == (lines["WEBPUSH_VAPID_PUBLIC_KEY"])
    )
    assert lines["WEBPUSH_VAPID_SUBJECT"] == "mailto:me@example.com"


def _settings_in_a_fresh_process(env: dict[str, str]):
    import os
    import subprocess
    import sys

    code = "import shouhou.settings as s; print(s.NOTIFICATION_CHANNELS)"
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed code)
        [sys.executable, "-c", code],
        env={**os.environ, "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_settings_use_the_real_adapters_when_the_providers_are_configured():
    private, public = _keys()
    done = _settings_in_a_fresh_process(
        {
            "WECHAT_APP_ID": "wx1",
            "WECHAT_APP_SECRET": "s",
            "WECHAT_TEMPLATE_IDS": "assigned=T1",
            "WEBPUSH_VAPID_PRIVATE_KEY": private,
            "WEBPUSH_VAPID_PUBLIC_KEY": public,
            "WEBPUSH_VAPID_SUBJECT": "mailto:ops@example.com",
        }
    )
    assert done.returncode == 0, done.stderr
    assert "WeChatTemplateAdapter" in done.stdout and "WebPushAdapter" in done.stdout


def test_settings_refuse_to_load_half_configured():
    done = _settings_in_a_fresh_process({"WECHAT_APP_ID": "wx1"})
    assert done.returncode != 0
    assert "set WECHAT_APP_SECRET" in done.stderr
