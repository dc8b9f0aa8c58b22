"""Signing in with SMS one-time codes: the services, the pages and the API.

Time is a fixed clock patched over ``django.utils.timezone.now`` so rate limits and expiry are
exact. Codes leave through the fake SMS provider after the transaction commits, so every send
runs inside ``django_capture_on_commit_callbacks(execute=True)``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from unittest.mock import patch

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from shouhou.accounts.models import Membership, SmsCode, User
from shouhou.accounts.services import (
    SmsCodeInvalid,
    SmsCodeLocked,
    sms_code_request,
    sms_code_verify,
)
from shouhou.core.errors import RateLimited
from shouhou.core.sms import FakeSmsBackend

PHONE = "+8613800138000"
ZH_CATALOG = (
    Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
)
needs_chinese = pytest.mark.skipif(
    not ZH_CATALOG.exists(),
    reason="shouhou/locale/zh_Hans/LC_MESSAGES/django.mo is missing: run `make messages`",
)

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock():
    clock = Clock(dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC))
    with patch("django.utils.timezone.now", side_effect=lambda: clock.now):
        yield clock


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # The API's per-IP throttle counts in the cache; start every test from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def send_code(django_capture_on_commit_callbacks):
    """Request a code for ``phone`` and return the digits the person received."""

    def send(phone: str = PHONE) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            sms_code_request(phone=phone)
        return _code_in(FakeSmsBackend.outbox[-1].text)

    return send


def _code_in(text: str) -> str:
    match = re.search(r"(?<!\d)\d{6}(?!\d)", text)
    assert match is not None, text
    return match.group(0)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _english() -> Client:
    client = Client()
    client.cookies["shouhou_language"] = "en"
    return client


# --- services ------------------------------------------------------------------------------------


def test_code_is_sent_through_the_provider_in_e164(clock, send_code, sms_outbox):
    # when a code is requested for a number typed with spaces
    with translation.override("en"):
        code = send_code("138 0013 8000")
    # then exactly one message went to the E.164 number, with the six digits in it
    assert len(sms_outbox) == 1
    assert sms_outbox[0].phone == PHONE
    assert sms_outbox[0].text == (
        f"【售后】Your verification code is {code}, valid for 5 minutes. Never tell it to anyone."
    )


@needs_chinese
def test_code_text_is_chinese_by_default(clock, send_code, sms_outbox):
    with translation.override("zh-hans"):
        code = send_code()
    assert sms_outbox[0].text.startswith(f"【售后】您的验证码是 {code}")
    assert "5 分钟内有效" in sms_outbox[0].text


def test_code_leaves_only_when_the_transaction_commits(
    clock, sms_outbox, django_capture_on_commit_callbacks
):
    # A rolled-back request must not leave a code in a phone that the database does not know.
    with django_capture_on_commit_callbacks() as callbacks:
        sms_code_request(phone=PHONE)
    assert sms_outbox == []
    assert len(callbacks) == 1


def test_only_a_hash_of_the_code_is_stored(clock, send_code):
    # when a code is sent
    code = send_code()
    # then the row holds a 64-character hex digest, never the digits
    row = SmsCode.objects.get()
    assert re.fullmatch(r"[0-9a-f]{64}", row.code_hash)
    assert [
        field.name
        for field in SmsCode._meta.concrete_fields
        if str(getattr(row, field.attname)) == code
    ] == []
    assert row.phone == PHONE
    assert row.expires_at == clock.now + dt.timedelta(minutes=5)
    assert (row.attempts, row.used_at) == (0, None)


def test_second_code_within_a_minute_is_rate_limited(clock, send_code, sms_outbox):
    # given a code sent 30 seconds ago
    send_code()
    clock.advance(seconds=30)
    # when another one is asked for
    with translation.override("en"), pytest.raises(RateLimited) as refused:
        sms_code_request(phone=PHONE)
    # then it is refused with the wait in the message, and nothing more was sent
    assert str(refused.value) == "Please wait 31 seconds before asking for another code."
    assert refused.value.retry_after == 31
    assert refused.value.status_code == 429
    assert len(sms_outbox) == 1
    assert SmsCode.objects.count() == 1


def test_next_code_is_sent_once_a_minute_has_passed(clock, send_code, sms_outbox):
    send_code()
    clock.advance(seconds=60)
    send_code()
    assert len(sms_outbox) == 2


def test_sixth_code_in_an_hour_is_rate_limited(clock, send_code, sms_outbox):
    # given five codes sent two minutes apart
    start = clock.now
    for _ in range(5):
        send_code()
        clock.advance(minutes=2)
    # when a sixth is asked for ten minutes after the first
    with translation.override("en"), pytest.raises(RateLimited) as refused:
        sms_code_request(phone=PHONE)
    # then it is refused until the first code is an hour old
    assert str(refused.value) == (
        "Too many codes were sent to this number in the last hour. "
        "Please wait 51 minutes before asking for another code."
    )
    assert refused.value.retry_after == 3001
    assert len(sms_outbox) == 5
    # and still refused at the hour, allowed a second later
    clock.now = start + dt.timedelta(hours=1)
    with pytest.raises(RateLimited) as still_refused:
        sms_code_request(phone=PHONE)
    assert still_refused.value.retry_after == 1
    clock.advance(seconds=1)
    send_code()
    assert len(sms_outbox) == 6


def test_limits_count_per_number(clock, send_code, sms_outbox):
    send_code(PHONE)
    send_code("13800138001")
    assert [message.phone for message in sms_outbox] == [PHONE, "+8613800138001"]


@pytest.mark.parametrize(("seconds", "valid"), [(299, True), (300, False)])
def test_code_expires_after_five_minutes(clock, send_code, seconds, valid):
    # given a code sent some seconds ago
    code = send_code()
    clock.advance(seconds=seconds)
    # when it is typed in
    if valid:
        sms_code_verify(phone=PHONE, code=code)
        assert SmsCode.objects.get().used_at == clock.now
    else:
        with translation.override("en"), pytest.raises(SmsCodeInvalid) as refused:
            sms_code_verify(phone=PHONE, code=code)
        assert str(refused.value) == (
            "The code has expired or was not requested. Ask for a new one."
        )


def test_five_wrong_tries_lock_the_code(clock, send_code):
    # given a code
    code = send_code()
    messages = []
    # when four wrong codes are typed, each is refused with the tries left
    with translation.override("en"):
        for _ in range(4):
            with pytest.raises(SmsCodeInvalid) as refused:
                sms_code_verify(phone=PHONE, code=_wrong(code))
            messages.append(str(refused.value))
        # and the fifth wrong try locks the code
        with pytest.raises(SmsCodeLocked) as locked:
            sms_code_verify(phone=PHONE, code=_wrong(code))
        # then even the right code no longer works
        with pytest.raises(SmsCodeLocked) as still_locked:
            sms_code_verify(phone=PHONE, code=code)
    assert messages == [
        "The code is not correct. 4 tries left.",
        "The code is not correct. 3 tries left.",
        "The code is not correct. 2 tries left.",
        "The code is not correct. 1 try left.",
    ]
    assert str(locked.value) == "Too many wrong codes. Ask for a new code."
    assert str(still_locked.value) == "Too many wrong codes. Ask for a new code."
    row = SmsCode.objects.get()
    assert (row.attempts, row.used_at) == (5, None)


def test_wrong_tries_are_counted_even_though_the_request_fails(clock, send_code):
    code = send_code()
    with pytest.raises(SmsCodeInvalid):
        sms_code_verify(phone=PHONE, code=_wrong(code))
    assert SmsCode.objects.get().attempts == 1


def test_used_code_cannot_be_reused(clock, send_code):
    # given a code that was used to sign in
    code = send_code()
    sms_code_verify(phone=PHONE, code=code)
    # when it is typed in again
    with translation.override("en"), pytest.raises(SmsCodeInvalid) as refused:
        sms_code_verify(phone=PHONE, code=code)
    # then it is refused as used up
    assert str(refused.value) == "The code has expired or was not requested. Ask for a new one."


def test_new_code_invalidates_the_old_one(clock, send_code):
    # given a first code, and a second one sent a minute later
    first = send_code()
    clock.advance(seconds=61)
    second = send_code()
    assert first != second  # one chance in a million of a clash
    # then the first one is expired from the moment the second was sent
    old, new = SmsCode.objects.order_by("created_at")
    assert old.expires_at == clock.now
    assert new.expires_at == clock.now + dt.timedelta(minutes=5)
    # and typing the first one fails while the second one works
    with pytest.raises(SmsCodeInvalid):
        sms_code_verify(phone=PHONE, code=first)
    sms_code_verify(phone=PHONE, code=second)


def test_code_for_another_number_does_not_sign_in(clock, send_code):
    code = send_code(PHONE)
    with pytest.raises(SmsCodeInvalid):
        sms_code_verify(phone="13800138001", code=code)


def test_verify_without_any_code_requested_is_refused(clock):
    with pytest.raises(SmsCodeInvalid):
        sms_code_verify(phone=PHONE, code="123456")


# --- pages ---------------------------------------------------------------------------------------


def _request_code_page(client: Client, captured, phone: str = PHONE, **headers: str):
    with captured(execute=True):
        return client.post("/accounts/login/sms/code/", {"phone": phone}, headers=headers)


@needs_chinese
def test_code_request_page_sends_code_and_shows_the_form_again(
    clock, client, sms_outbox, django_capture_on_commit_callbacks
):
    # when a visitor asks for a code without JavaScript
    response = _request_code_page(client, django_capture_on_commit_callbacks, "138 0013 8000")
    # then the full sign-in page comes back with the success message and the number kept
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/login_sms.html"
    html = response.content.decode()
    assert "验证码已发送" in html
    assert 'value="138 0013 8000"' in html
    assert [message.phone for message in sms_outbox] == [PHONE]


@needs_chinese
def test_code_request_with_htmx_answers_a_fragment(
    clock, client, sms_outbox, django_capture_on_commit_callbacks
):
    # when the page's button asks through htmx
    response = _request_code_page(client, django_capture_on_commit_callbacks, HX_Request="true")
    # then only the status fragment comes back
    assert response.status_code == 200
    assert [t.name for t in response.templates] == ["accounts/partials/_sms_code_status.html"]
    html = response.content.decode()
    assert html.startswith('<p class="ok">')
    assert "验证码已发送" in html
    assert "<html" not in html
    assert len(sms_outbox) == 1


@needs_chinese
def test_code_request_too_soon_answers_429_fragment_in_chinese(
    clock, client, sms_outbox, django_capture_on_commit_callbacks
):
    _request_code_page(client, django_capture_on_commit_callbacks, HX_Request="true")
    clock.advance(seconds=30)
    response = _request_code_page(client, django_capture_on_commit_callbacks, HX_Request="true")
    assert response.status_code == 429
    html = response.content.decode()
    assert html.startswith('<p class="error" role="alert">')
    assert "请等待 31 秒后再获取验证码" in html
    assert len(sms_outbox) == 1


def test_code_request_too_soon_answers_in_english_with_the_cookie(
    clock, sms_outbox, django_capture_on_commit_callbacks
):
    client = _english()
    _request_code_page(client, django_capture_on_commit_callbacks, HX_Request="true")
    clock.advance(seconds=30)
    response = _request_code_page(client, django_capture_on_commit_callbacks, HX_Request="true")
    assert response.status_code == 429
    assert response.content.decode().strip() == (
        '<p class="error" role="alert">Please wait 31 seconds before asking for another code.</p>'
    )


@needs_chinese
def test_code_request_for_invalid_number_answers_400(
    clock, client, sms_outbox, django_capture_on_commit_callbacks
):
    response = _request_code_page(
        client, django_capture_on_commit_callbacks, "12345678901", HX_Request="true"
    )
    assert response.status_code == 400
    assert "请输入有效的中国大陆手机号" in response.content.decode()
    assert sms_outbox == []
    assert SmsCode.objects.count() == 0


def test_first_sms_login_creates_a_customer_without_membership(
    clock, client, sms_outbox, django_capture_on_commit_callbacks
):
    # given a visitor who asked for a code
    _request_code_page(client, django_capture_on_commit_callbacks, "138 0013 8000")
    code = _code_in(sms_outbox[-1].text)
    # when they type it in
    response = client.post("/accounts/login/sms/", {"phone": "138 0013 8000", "code": code})
    # then they are signed in as a new customer and sent on to their workspace
    assert response.status_code == 302
    assert response.url == "/"
    user = User.objects.get(phone=PHONE)
    assert int(client.session["_auth_user_id"]) == user.pk
    assert Membership.objects.filter(user=user).count() == 0
    assert not user.has_usable_password()
    assert client.get("/").url == "/my/"


def test_sms_login_follows_a_safe_next(
    clock, client, sms_outbox, django_capture_on_commit_callbacks
):
    _request_code_page(client, django_capture_on_commit_callbacks)
    code = _code_in(sms_outbox[-1].text)
    response = client.post("/accounts/login/sms/", {"phone": PHONE, "code": code, "next": "/my/"})
    assert response.url == "/my/"


def test_sms_login_ignores_an_offsite_next(
    clock, client, sms_outbox, django_capture_on_commit_callbacks
):
    _request_code_page(client, django_capture_on_commit_callbacks)
    code = _code_in(sms_outbox[-1].text)
    response = client.post(
        "/accounts/login/sms/", {"phone": PHONE, "code": code, "next": "https://evil.example/"}
    )
    assert response.url == "/"


def test_sms_login_of_existing_staff_keeps_the_account(
    clock, client, agent, sms_outbox, django_capture_on_commit_callbacks
):
    # given Agnes (an agent of A) asking for a code
    users_before = User.objects.count()
    _request_code_page(client, django_capture_on_commit_callbacks, "139 0000 0002")
    code = _code_in(sms_outbox[-1].text)
    # when she signs in with it
    client.post("/accounts/login/sms/", {"phone": "13900000002", "code": code})
    # then she is herself, no new account, and lands in the console
    assert int(client.session["_auth_user_id"]) == agent.pk
    assert User.objects.count() == users_before
    assert client.get("/").url == "/console/"


@needs_chinese
def test_wrong_code_on_the_page_is_refused_in_chinese(
    clock, client, sms_outbox, django_capture_on_commit_callbacks
):
    # given a visitor who asked for a code
    _request_code_page(client, django_capture_on_commit_callbacks)
    code = _code_in(sms_outbox[-1].text)
    # when they type a wrong one
    response = client.post("/accounts/login/sms/", {"phone": PHONE, "code": _wrong(code)})
    # then the page says so in Chinese, nobody is signed in and no account was created
    assert response.status_code == 400
    html = response.content.decode()
    assert "验证码不正确" in html
    assert "4 次" in html
    assert "_auth_user_id" not in client.session
    assert User.objects.filter(phone=PHONE).count() == 0


def test_wrong_code_on_the_page_is_refused_in_english_with_the_cookie(
    clock, sms_outbox, django_capture_on_commit_callbacks
):
    client = _english()
    _request_code_page(client, django_capture_on_commit_callbacks)
    code = _code_in(sms_outbox[-1].text)
    response = client.post("/accounts/login/sms/", {"phone": PHONE, "code": _wrong(code)})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["The code is not correct. 4 tries left."]
    assert "_auth_user_id" not in client.session


def test_locked_code_on_the_page_is_refused(clock, sms_outbox, django_capture_on_commit_callbacks):
    client = _english()
    _request_code_page(client, django_capture_on_commit_callbacks)
    code = _code_in(sms_outbox[-1].text)
    for _ in range(5):
        client.post("/accounts/login/sms/", {"phone": PHONE, "code": _wrong(code)})
    response = client.post("/accounts/login/sms/", {"phone": PHONE, "code": code})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Too many wrong codes. Ask for a new code."
    ]
    assert "_auth_user_id" not in client.session


@needs_chinese
def test_sms_login_form_errors_are_chinese_by_default(clock, client):
    response = client.post("/accounts/login/sms/", {"phone": "", "code": "12"})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "phone": [_zh("This field is required.")],
        "code": [_zh("The code has 6 digits.")],
    }
    assert "验证码是 6 位数字" in response.content.decode()


def test_sms_login_form_errors_are_english_with_the_cookie(clock):
    response = _english().post("/accounts/login/sms/", {"phone": "", "code": "12"})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "phone": ["This field is required."],
        "code": ["The code has 6 digits."],
    }


def _zh(message: str) -> str:
    with translation.override("zh-hans"):
        translated = translation.gettext(message)
    assert translated != message, f"no Chinese translation for {message!r}"
    return translated


# --- API -----------------------------------------------------------------------------------------


def _api_request_code(client: Client, captured, phone: str = PHONE):
    with captured(execute=True):
        return client.post(
            "/api/v1/auth/sms-codes/", {"phone": phone}, content_type="application/json"
        )


@needs_chinese
def test_api_sends_a_code_with_202(clock, client, sms_outbox, django_capture_on_commit_callbacks):
    response = _api_request_code(client, django_capture_on_commit_callbacks, "138 0013 8000")
    assert response.status_code == 202
    assert response.json() == {"detail": _zh("The code was sent.")}
    assert [message.phone for message in sms_outbox] == [PHONE]


def test_api_sends_a_code_in_english_with_the_cookie(
    clock, sms_outbox, django_capture_on_commit_callbacks
):
    response = _api_request_code(_english(), django_capture_on_commit_callbacks)
    assert response.status_code == 202
    assert response.json() == {"detail": "The code was sent."}


def test_api_code_too_soon_answers_429_with_retry_after(
    clock, sms_outbox, django_capture_on_commit_callbacks
):
    # given a code sent 5 seconds ago
    client = _english()
    _api_request_code(client, django_capture_on_commit_callbacks)
    clock.advance(seconds=5)
    # when another is asked for
    response = _api_request_code(client, django_capture_on_commit_callbacks)
    # then 429 says how long to wait, in the body and in Retry-After
    assert response.status_code == 429
    assert response["Retry-After"] == "56"
    assert response.json() == {
        "detail": "Please wait 56 seconds before asking for another code.",
        "code": "rate_limited",
    }
    assert len(sms_outbox) == 1


def test_api_sixth_code_in_an_hour_answers_429(
    clock, sms_outbox, django_capture_on_commit_callbacks
):
    client = _english()
    for _ in range(5):
        assert _api_request_code(client, django_capture_on_commit_callbacks).status_code == 202
        clock.advance(minutes=2)
    response = _api_request_code(client, django_capture_on_commit_callbacks)
    assert response.status_code == 429
    assert response["Retry-After"] == "3001"
    assert response.json()["code"] == "rate_limited"
    assert len(sms_outbox) == 5


@needs_chinese
def test_api_refuses_an_invalid_number(clock, client, sms_outbox):
    response = client.post(
        "/api/v1/auth/sms-codes/", {"phone": "12345678901"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "phone": [_zh("Enter a valid mainland China mobile number: 11 digits starting with 1.")]
    }
    assert sms_outbox == []


def _token(client: Client, **data: str):
    return client.post("/api/v1/auth/token/", data, content_type="application/json")


def test_api_token_by_password_authenticates_requests(clock, client, alice, org_a):
    # when Alice exchanges her password for a token, typing her number with spaces
    response = _token(client, phone="139 0000 0001", password="correct-horse-battery")
    # then the token authenticates API calls as her
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 40
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    listing = api.get("/api/v1/organizations/")
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [org_a.pk]
    # and asking again gives the same token
    again = _token(client, phone="13900000001", password="correct-horse-battery")
    assert again.json() == {"token": token}


def test_api_rejects_a_made_up_token(clock):
    api = _english()
    response = api.get("/api/v1/organizations/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    # 401 with a challenge telling the client which scheme to use
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Invalid token."}


def test_api_token_by_sms_code_signs_up_a_customer(
    clock, client, sms_outbox, django_capture_on_commit_callbacks
):
    # given a code sent through the API
    _api_request_code(client, django_capture_on_commit_callbacks)
    code = _code_in(sms_outbox[-1].text)
    # when it is exchanged for a token
    response = _token(client, phone=PHONE, code=code)
    # then a customer account exists and the token works (and sees no organisation)
    assert response.status_code == 200
    user = User.objects.get(phone=PHONE)
    assert Membership.objects.filter(user=user).count() == 0
    api = Client(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api.get("/api/v1/organizations/").json()["count"] == 0
    # and the code is used up
    assert _token(client, phone=PHONE, code=code).status_code == 400


@needs_chinese
def test_api_token_with_wrong_password_answers_400(clock, client, alice):
    response = _token(client, phone="13900000001", password="wrong-password")
    assert response.status_code == 400
    assert response.json() == {
        "detail": _zh("The mobile number or password is not correct."),
        "code": "invalid_login",
    }


def test_api_token_with_wrong_code_answers_400_with_the_reason(
    clock, sms_outbox, django_capture_on_commit_callbacks
):
    client = _english()
    _api_request_code(client, django_capture_on_commit_callbacks)
    code = _code_in(sms_outbox[-1].text)
    response = _token(client, phone=PHONE, code=_wrong(code))
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The code is not correct. 4 tries left.",
        "code": "sms_code_invalid",
    }
    assert User.objects.filter(phone=PHONE).count() == 0


def test_api_token_with_locked_code_answers_400(
    clock, sms_outbox, django_capture_on_commit_callbacks
):
    client = _english()
    _api_request_code(client, django_capture_on_commit_callbacks)
    code = _code_in(sms_outbox[-1].text)
    for _ in range(5):
        _token(client, phone=PHONE, code=_wrong(code))
    response = _token(client, phone=PHONE, code=code)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Too many wrong codes. Ask for a new code.",
        "code": "sms_code_locked",
    }


@pytest.mark.parametrize(
    "credentials",
    [{}, {"password": "correct-horse-battery", "code": "123456"}],
    ids=["neither", "both"],
)
def test_api_token_needs_exactly_one_of_password_and_code(clock, alice, credentials):
    response = _token(_english(), phone="13900000001", **credentials)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Give either a password or an SMS code."]}


@needs_chinese
def test_api_token_errors_are_chinese_by_default(clock, client, alice):
    response = _token(client, phone="13900000001")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [_zh("Give either a password or an SMS code.")]}
