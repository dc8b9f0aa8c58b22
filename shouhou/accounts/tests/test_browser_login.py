"""Sign-in journeys in a real browser (headless Debian Chromium through Playwright)."""

import re

import pytest

from shouhou.accounts.models import Membership, User
from shouhou.core.sms import FakeSmsBackend

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_new_customer_signs_in_with_sms_code_and_lands_on_my_service(page):
    # given a visitor on the landing page, in Chinese by default
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.get_by_role("link", name="用手机号登录").click()
    # when they ask for a code and type it
    page.get_by_label("手机号").fill("138 0013 8000")
    page.get_by_role("button", name="发送验证码").click()
    page.get_by_text("验证码已发送").wait_for()
    code = re.search(r"\d{6}", FakeSmsBackend.outbox[-1].text).group(0)
    page.get_by_label("验证码").fill(code)
    page.get_by_role("button", name="登录").click()
    # then they are signed in as a new customer on "我的服务"
    page.wait_for_url(re.compile(r"/my/$"))
    assert page.get_by_role("heading", name="我的服务").is_visible()
    user = User.objects.get(phone="+8613800138000")
    assert Membership.objects.filter(user=user).count() == 0


def test_wrong_sms_code_is_refused_with_a_clear_message(page):
    page.goto("/accounts/login/sms/")
    page.get_by_label("手机号").fill("13800138001")
    page.get_by_role("button", name="发送验证码").click()
    page.get_by_text("验证码已发送").wait_for()
    code = re.search(r"\d{6}", FakeSmsBackend.outbox[-1].text).group(0)
    page.get_by_label("验证码").fill(f"{(int(code) + 1) % 10**6:06d}")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_text("验证码不正确").is_visible()
    assert User.objects.filter(phone="+8613800138001").count() == 0


def test_staff_signs_in_with_password_switches_to_english_and_large_type(page, agent):
    # given an agent of organisation A
    page.goto("/accounts/login/")
    page.get_by_label("手机号").fill("13900000002")
    page.get_by_label("密码").fill("correct-horse-battery")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console/$"))
    assert page.get_by_role("heading", name="甲品牌").is_visible()
    # when they switch the language and the text size
    page.get_by_role("button", name="English").click()
    page.get_by_role("link", name="Outlets", exact=True).wait_for()
    page.get_by_role("button", name="Large text").click()
    # then the console is in English with large type, and the choice is remembered
    assert "large-type" in (page.locator("html").get_attribute("class") or "")
    assert page.locator("html").get_attribute("lang") == "en"
    agent.refresh_from_db()
    assert agent.preferred_language == "en"
