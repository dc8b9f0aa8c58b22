"""The real WeChat template-message adapter against the local WeChat API (testing/wechat.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.notifications.channels import (
    PermanentFailure,
    RateLimited,
    TemporaryFailure,
    WeChatTemplateAdapter,
    _seconds_to_beijing_midnight,
)
from shouhou.notifications.choices import MessageState
from shouhou.notifications.messaging import message_send
from shouhou.notifications.models import Message
from shouhou.notifications.testing.wechat import FakeWeChatServer, openid
from shouhou.workorders.choices import EventType
from shouhou.workorders.models import WorkOrderEvent

TEMPLATE_ASSIGNED = "tpl-assigned-0123456789"
TEMPLATE_EN_ROUTE = "tpl-en-route-0123456789"


@pytest.fixture
def wechat(settings):
    server = FakeWeChatServer(templates={TEMPLATE_ASSIGNED, TEMPLATE_EN_ROUTE}).start()
    settings.WECHAT_APP_ID = server.app_id
    settings.WECHAT_APP_SECRET = server.secret
    settings.WECHAT_API_BASE_URL = server.base_url
    settings.WECHAT_TEMPLATE_IDS = {"assigned": TEMPLATE_ASSIGNED, "en_route": TEMPLATE_EN_ROUTE}
    settings.WECHAT_TIMEOUT_SECONDS = 5
    settings.PUBLIC_BASE_URL = "https://service.example.com"
    settings.NOTIFICATION_CHANNELS = {
        "wechat": "shouhou.notifications.channels.WeChatTemplateAdapter"
    }
    cache.clear()
    yield server
    server.stop()
    cache.clear()


def make_message(server: FakeWeChatServer, *, kind: str = "assigned", follower: bool = True):
    address = openid()
    if follower:
        server.followers.add(address)
    order = WorkOrderFactory()
    event = WorkOrderEvent.objects.create(
        work_order=order, type=EventType.TECHNICIAN_ASSIGNED, created_at=timezone.now()
    )
    return Message.objects.create(
        organization=order.organization,
        work_order=order,
        event=event,
        kind=kind,
        audience="customer",
        channel="wechat",
        address=address,
        language="zh-hans",
        subject="工程师已接单",
        body="您的工单已由张师傅接单。",
        next_attempt_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )


def test_send_posts_the_template_message_and_returns_the_msgid(db, wechat):
    # given
    message = make_message(wechat)
    # when
    provider_id = WeChatTemplateAdapter().send(message)
    # then
    assert len(wechat.sent) == 1
    sent = wechat.sent[0]
    assert provider_id == str(sent.msgid)
    assert (sent.touser, sent.template_id) == (message.address, TEMPLATE_ASSIGNED)
    assert sent.url == f"https://service.example.com/t/{message.work_order.tracking_token}/"
    assert sent.client_msg_id == f"shouhou-message-{message.pk}"
    assert sent.data["first"] == {"value": "工程师已接单"}
    assert sent.data["keyword1"] == {"value": message.work_order.number}
    assert sent.data["keyword2"] == {"value": "您的工单已由张师傅接单。"}
    assert set(sent.data) == {"first", "keyword1", "keyword2", "keyword3"}


def test_relative_tracking_url_is_left_out(db, wechat, settings):
    settings.PUBLIC_BASE_URL = ""
    WeChatTemplateAdapter().send(make_message(wechat))
    assert wechat.sent[0].url is None


def test_access_token_is_fetched_once_and_reused_across_sends_and_adapters(db, wechat):
    # when three messages go out through two adapter instances (like two tasks)
    WeChatTemplateAdapter().send(make_message(wechat))
    WeChatTemplateAdapter().send(make_message(wechat))
    WeChatTemplateAdapter().send(make_message(wechat, kind="en_route"))
    # then one token served them all
    assert wechat.token_requests == 1
    assert len({s.access_token for s in wechat.sent}) == 1


def test_token_is_refreshed_before_it_expires(db, wechat):
    # given a token fetched now (lives 7200 s; the adapter keeps it 7200 - 300 s)
    WeChatTemplateAdapter().send(make_message(wechat))
    first = wechat.sent[0].access_token
    # when the cache entry runs out early (simulated: the cache forgets it) while WeChat's
    # token would still be valid
    cache.clear()
    WeChatTemplateAdapter().send(make_message(wechat))
    # then a new token was fetched instead of using one about to expire
    assert wechat.token_requests == 2
    assert wechat.sent[1].access_token != first
    assert wechat.refused == []


def test_the_cache_keeps_the_token_for_its_life_minus_the_margin(db, wechat):
    wechat.token_lifetime = 600
    adapter = WeChatTemplateAdapter()
    token = adapter.access_token()
    assert cache.get(adapter._cache_key) == token
    assert adapter.TOKEN_REFRESH_MARGIN == 300


@pytest.mark.parametrize(("revoke", "errcode"), [(True, 40001), (False, 42001)])
def test_invalid_or_expired_token_is_refreshed_once_and_the_send_retried(
    db, wechat, revoke, errcode
):
    # given a cached token that WeChat no longer accepts
    WeChatTemplateAdapter().send(make_message(wechat))
    if revoke:
        wechat.revoke_tokens()
    else:
        wechat.advance(7300)  # WeChat's clock: the token expired
    # when
    provider_id = WeChatTemplateAdapter().send(make_message(wechat))
    # then one refusal, one new token, and the message went out with it
    assert [r["errcode"] for r in wechat.refused] == [errcode]
    assert wechat.token_requests == 2
    assert provider_id == str(wechat.sent[1].msgid)
    assert wechat.sent[1].access_token != wechat.sent[0].access_token


def test_a_second_token_refusal_is_temporary_not_a_loop(db, wechat):
    WeChatTemplateAdapter().send(make_message(wechat))
    wechat.revoke_tokens()
    wechat.answer_next(40001, times=2)
    with pytest.raises(TemporaryFailure, match="40001"):
        WeChatTemplateAdapter().send(make_message(wechat))
    assert wechat.token_requests == 2  # refreshed once only


@pytest.mark.parametrize(
    ("errcode", "error"),
    [
        (45009, RateLimited),
        (-1, TemporaryFailure),
        (43004, PermanentFailure),
        (40003, PermanentFailure),
        (43101, PermanentFailure),
        (47003, PermanentFailure),
        (99999, TemporaryFailure),
    ],
)
def test_errcodes_map_to_the_channel_outcomes(db, wechat, errcode, error):
    wechat.answer_next(errcode)
    with pytest.raises(error) as raised:
        WeChatTemplateAdapter().send(make_message(wechat))
    assert str(errcode) in str(raised.value) or error is RateLimited
    assert wechat.sent == []


def test_not_following_is_refused_by_the_server_itself(db, wechat):
    with pytest.raises(PermanentFailure, match="43004"):
        WeChatTemplateAdapter().send(make_message(wechat, follower=False))


def test_a_malformed_openid_is_refused_with_40003(db, wechat):
    message = make_message(wechat)
    message.address = "not-an-openid"
    with pytest.raises(PermanentFailure, match="40003"):
        WeChatTemplateAdapter().send(message)


def test_rate_limit_waits_until_the_quota_resets_at_beijing_midnight():
    # 23:30 in Beijing: half an hour to go
    now = dt.datetime(2026, 11, 23, 15, 30, tzinfo=dt.UTC)
    assert _seconds_to_beijing_midnight(now) == 1800.0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_5xx_is_temporary(db, wechat, status):
    wechat.answer_next(status=status)
    with pytest.raises(TemporaryFailure, match=f"HTTP {status}"):
        WeChatTemplateAdapter().send(make_message(wechat))


def test_network_error_is_temporary(db, wechat, settings):
    message = make_message(wechat)
    wechat.stop()
    with pytest.raises(TemporaryFailure, match="unreachable"):
        WeChatTemplateAdapter().send(message)


def test_a_kind_without_a_template_fails_permanently_with_the_reason(db, wechat):
    message = make_message(wechat, kind="completed")
    with pytest.raises(PermanentFailure, match="no WeChat template for the kind 'completed'"):
        WeChatTemplateAdapter().send(message)
    assert wechat.token_requests == 0


def test_wrong_secret_is_temporary_and_names_the_errcode(db, wechat, settings):
    settings.WECHAT_APP_SECRET = "wrong"
    with pytest.raises(TemporaryFailure, match="40125"):
        WeChatTemplateAdapter().send(make_message(wechat))


# --- through message_send: the states the adapter's outcomes lead to --------------------------


def test_message_send_records_sent_with_the_msgid(db, wechat):
    message = make_message(wechat)
    assert message_send(message_id=message.pk).state == MessageState.SENT
    message.refresh_from_db()
    assert message.provider_id == str(wechat.sent[0].msgid)


def test_message_send_defers_a_rate_limited_message(db, wechat):
    message = make_message(wechat)
    wechat.answer_next(45009)
    result = message_send(message_id=message.pk)
    message.refresh_from_db()
    assert (result.state, message.state) == ("deferred", "deferred")
    assert "daily quota" in message.last_error


def test_message_send_fails_a_message_to_someone_not_following(db, wechat):
    message = make_message(wechat, follower=False)
    assert message_send(message_id=message.pk).state == MessageState.FAILED
    message.refresh_from_db()
    assert "does not follow" in message.last_error
