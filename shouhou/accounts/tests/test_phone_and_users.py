"""Phone numbers, the phone-first User, the password sign-in page and the UI preferences."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from shouhou.accounts.models import User
from shouhou.core.phone import mask_phone, national_format, normalize_phone

PASSWORD = "correct-horse-battery"


# --- normalize_phone -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        " 138 0013 8000 ",
        "(138)0013-8000",
        "+8613800138000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "008613800138000",
        "0086 138 0013 8000",
        "＋86 13800138000",
        "（138）00138000",
    ],
)
def test_chinese_mobile_numbers_normalise_to_e164(raw):
    assert normalize_phone(raw) == "+8613800138000"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("12345678901", "invalid_cn_mobile"),  # second digit must be 3-9
        ("1380013800", "invalid_cn_mobile"),  # 10 digits
        ("138001380001", "invalid_cn_mobile"),  # 12 digits
        ("23800138000", "invalid_cn_mobile"),
        ("+8612345678901", "invalid_cn_mobile"),
        ("+861380013800", "invalid_cn_mobile"),
        ("0086 1380013800", "invalid_cn_mobile"),
        ("138abcd8000", "invalid_cn_mobile"),
        ("+123", "invalid_e164"),
        ("+0123456789", "invalid_e164"),
        ("", "required"),
        ("   ", "required"),
        (None, "required"),
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(raw, code):
    with pytest.raises(ValidationError) as refused:
        normalize_phone(raw)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+85291234567", "+85291234567"),
        ("00852 9123 4567", "+85291234567"),
        ("+1 (415) 555-0100", "+14155550100"),
    ],
)
def test_international_numbers_keep_their_country_code(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+8613800005678", "138****5678"),
        ("+85291234567", "+85****4567"),
        ("123456", "******"),
        ("", ""),
    ],
)
def test_mask_phone_hides_the_middle_digits(e164, masked):
    assert mask_phone(e164) == masked


def test_national_format_drops_only_the_chinese_country_code():
    assert national_format("+8613800138000") == "13800138000"
    assert national_format("+85291234567") == "+85291234567"


# --- the User manager ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_user_normalises_the_number_and_hashes_the_password():
    # when a user is created with a spaced number
    user = User.objects.create_user("138 0013 8000", password=PASSWORD, display_name="Carol")
    # then the number is stored in E.164 and the password is hashed
    user.refresh_from_db()
    assert user.phone == "+8613800138000"
    assert user.password != PASSWORD
    assert user.check_password(PASSWORD)
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
    assert user.masked_phone == "138****8000"
    assert user.national_phone == "13800138000"
    assert str(user) == "Carol"


@pytest.mark.django_db
def test_create_user_without_password_cannot_sign_in_with_one():
    user = User.objects.create_user("13800138000")
    assert not user.has_usable_password()
    assert str(user) == "138****8000"  # no display name: the masked number


@pytest.mark.django_db
def test_one_number_is_one_account_however_it_is_spelled():
    # given a user
    User.objects.create_user("13800138000")
    # when another is created with the same number spelled differently
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("+86 138-0013-8000")
    # then there is still exactly one
    assert User.objects.filter(phone="+8613800138000").count() == 1


@pytest.mark.django_db
def test_create_user_refuses_an_invalid_number():
    with pytest.raises(ValidationError):
        User.objects.create_user("12345678901")
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_create_superuser_is_staff_and_superuser():
    user = User.objects.create_superuser("13800138000", password=PASSWORD)
    assert (user.is_staff, user.is_superuser) == (True, True)


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", ["13900000001", "139 0000 0001", "+86 139-0000-0001"])
def test_natural_key_lookup_accepts_any_spelling(alice, spelling):
    assert User.objects.get_by_natural_key(spelling) == alice


@pytest.mark.django_db
def test_natural_key_lookup_of_garbage_finds_no_one(alice):
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("not a number")


# --- password sign-in page -----------------------------------------------------------------------


def _english() -> Client:
    client = Client()
    client.cookies["shouhou_language"] = "en"
    return client


@pytest.mark.django_db
def test_login_page_renders(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/login.html"


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", ["13900000001", "139 0000 0001", "+86 139 0000 0001"])
def test_login_accepts_any_spelling_of_the_number(client, alice, spelling):
    # when Alice signs in typing her number her own way
    response = client.post("/accounts/login/", {"phone": spelling, "password": PASSWORD})
    # then she is signed in
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == alice.pk


@pytest.mark.django_db
def test_wrong_password_answers_400_and_signs_nobody_in(alice):
    # when someone types Alice's number with a wrong password
    client = _english()
    response = client.post("/accounts/login/", {"phone": "13900000001", "password": "nope"})
    # then the page says so, with 400, and nobody is signed in
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "The mobile number or password is not correct."
    ]
    assert "The mobile number or password is not correct." in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_unknown_number_answers_like_a_wrong_password(alice):
    client = _english()
    response = client.post("/accounts/login/", {"phone": "13700000000", "password": PASSWORD})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "The mobile number or password is not correct."
    ]


@pytest.mark.django_db
def test_inactive_user_cannot_sign_in(alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    client = _english()
    response = client.post("/accounts/login/", {"phone": "13900000001", "password": PASSWORD})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_wrong_password_message_is_chinese_by_default(client, alice):
    response = client.post("/accounts/login/", {"phone": "13900000001", "password": "nope"})
    assert response.status_code == 400
    assert "手机号或密码不正确" in response.content.decode()


@pytest.mark.django_db
def test_invalid_number_is_a_field_error(alice):
    response = _english().post("/accounts/login/", {"phone": "12345", "password": PASSWORD})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "phone": ["Enter a valid mainland China mobile number: 11 digits starting with 1."]
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "workspace"),
    [
        ("customer", "/my/"),
        ("technician", "/tech/"),
        ("agent", "/console/"),
        ("finance", "/console/"),
        ("auditor", "/console/"),
        ("outlet_manager", "/console/"),
        ("alice", "/console/"),
        ("platform_admin", "/admin/"),
    ],
)
def test_login_sends_each_role_to_its_workspace(request, client, persona, workspace):
    # given a person of some role
    user = request.getfixturevalue(persona)
    # when they sign in with their password
    response = client.post("/accounts/login/", {"phone": user.national_phone, "password": PASSWORD})
    # then they go home, and home sends them to their workspace, which opens
    assert response.status_code == 302
    assert response.url == "/"
    home = client.get("/")
    assert home.status_code == 302
    assert home.url == workspace
    assert client.get(workspace).status_code == 200


@pytest.mark.django_db
def test_login_follows_a_local_next_and_ignores_an_offsite_one(client, agent):
    data = {"phone": "13900000002", "password": PASSWORD}
    assert client.post("/accounts/login/?next=/console/outlets/", data).url == "/console/outlets/"
    client.logout()
    response = client.post("/accounts/login/", data | {"next": "https://evil.example/"})
    assert response.url == "/"


@pytest.mark.django_db
def test_login_restores_the_preferred_language(client, agent):
    agent.preferred_language = "en"
    agent.save(update_fields=["preferred_language"])
    response = client.post("/accounts/login/", {"phone": "13900000002", "password": PASSWORD})
    assert response.cookies["shouhou_language"].value == "en"


@pytest.mark.django_db
def test_anonymous_home_is_the_landing_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.templates[0].name == "core/landing.html"


# --- language and text size ----------------------------------------------------------------------


@pytest.mark.django_db
def test_language_switch_sets_the_cookie_for_a_visitor(client):
    # when a visitor switches to English
    response = client.post("/language/", {"language": "en", "next": "/accounts/login/"})
    # then the cookie is set and they go back where they were, now in English
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    cookie = response.cookies["shouhou_language"]
    assert cookie.value == "en"
    assert cookie["max-age"] == 365 * 24 * 3600
    assert cookie["samesite"] == "Lax"
    page = client.get("/accounts/login/")
    assert '<html lang="en"' in page.content.decode()


@pytest.mark.django_db
def test_pages_are_chinese_without_a_cookie(client):
    page = client.get("/accounts/login/")
    assert '<html lang="zh-hans"' in page.content.decode()


@pytest.mark.django_db
def test_language_switch_remembers_the_choice_on_the_account(client, agent):
    # given Agnes signed in
    client.force_login(agent)
    # when she switches to English
    response = client.post("/language/", {"language": "en", "next": "/console/"})
    # then the cookie is set and her account remembers it
    assert response.cookies["shouhou_language"].value == "en"
    agent.refresh_from_db()
    assert agent.preferred_language == "en"


@pytest.mark.django_db
def test_preferred_language_applies_without_a_cookie(agent):
    agent.preferred_language = "en"
    agent.save(update_fields=["preferred_language"])
    client = Client()
    client.force_login(agent)
    assert '<html lang="en"' in client.get("/console/").content.decode()


@pytest.mark.django_db
def test_language_switch_ignores_unknown_languages(client, agent):
    client.force_login(agent)
    response = client.post("/language/", {"language": "fr", "next": "/console/"})
    assert response.status_code == 302
    assert "shouhou_language" not in response.cookies
    agent.refresh_from_db()
    assert agent.preferred_language == ""


@pytest.mark.django_db
def test_language_switch_does_not_redirect_off_site(client):
    response = client.post("/language/", {"language": "en", "next": "https://evil.example/"})
    assert response.url == "/"


@pytest.mark.django_db
def test_language_switch_is_post_only(client):
    assert client.get("/language/").status_code == 405


@pytest.mark.django_db
def test_text_size_toggles_large_type(client):
    # when large type is switched on
    response = client.post("/text-size/", {"large": "1", "next": "/accounts/login/"})
    # then the cookie is set and pages carry the large-type class
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert response.cookies["shouhou_large_type"].value == "1"
    assert '<html lang="zh-hans" class="large-type">' in client.get("/").content.decode()
    # and switching it off deletes the cookie and the class
    response = client.post("/text-size/", {"large": "0", "next": "/"})
    assert response.cookies["shouhou_large_type"].value == ""
    assert response.cookies["shouhou_large_type"]["max-age"] == 0
    assert '<html lang="zh-hans" class="">' in client.get("/").content.decode()


@pytest.mark.django_db
def test_text_size_is_post_only(client):
    assert client.get("/text-size/").status_code == 405


# --- logout --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logout_is_post_only(client, agent):
    # given Agnes signed in
    client.force_login(agent)
    # when a link (GET) tries to sign her out, nothing happens
    assert client.get("/accounts/logout/").status_code == 405
    assert int(client.session["_auth_user_id"]) == agent.pk
    # when she posts, she is signed out and sent to the sign-in page
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert "_auth_user_id" not in client.session
