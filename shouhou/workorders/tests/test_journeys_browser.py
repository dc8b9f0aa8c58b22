"""Three whole journeys in a real browser, each person on their own screen, in Chinese.

(a) a phone brought to an outlet: the customer reports on a phone, the agent dispatches in the
    console, the outlet's technician repairs it on /tech/jobs/, the customer rates;
(b) an air conditioner repaired at home: report, triage, dispatch, the technician's visit with
    location, photos and the customer's signature, then confirmation and the rating;
(c) a car at a merchant workshop of a platform: the driver books, the platform dispatches to
    the workshop, the workshop's outlet manager runs the repair in its own console.

Every step is a click on the real page (htmx included); the data is built with factories and
checked in the database at the end.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from shouhou.accounts.models import Organization, Outlet, User
from shouhou.catalog.models import FaultType, ProductModel
from shouhou.core.sms import FakeSmsBackend
from shouhou.core.testing.factories import (
    PASSWORD,
    BrandFactory,
    CategoryFactory,
    FaultTypeFactory,
    FaultTypeLineFactory,
    MembershipFactory,
    OpeningHoursFactory,
    OrganizationFactory,
    OutletFactory,
    PriceListItemFactory,
    ProductModelFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    UserFactory,
)
from shouhou.dispatch.models import Technician
from shouhou.feedback.models import Rating
from shouhou.workorders.models import Attachment, Visit, WorkOrder
from shouhou.workorders.tests.conftest import jpeg_with_gps

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Where the technician's phone says it is when he checks in at the customer's door.
AT_THE_DOOR = {"latitude": 30.2801, "longitude": 120.1302}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def screen(_chromium, live_server):
    """Opens one browser per person: ``screen(PHONE)`` → a fresh page in its own context."""
    contexts = []

    def open_screen(viewport: dict, **options) -> Page:
        context = _chromium.new_context(
            viewport=viewport, locale="zh-CN", base_url=live_server.url, **options
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_screen
    for context in contexts:
        context.close()


# --- people and steps ------------------------------------------------------------------------


def member(organization: Organization, role: str, phone: str, name: str) -> User:
    user = UserFactory(phone=phone, display_name=name)
    MembershipFactory(user=user, organization=organization, role=role)
    return user


def sign_in(page: Page, phone: str, lands_on: str) -> None:
    """Sign in with mobile number and password on the Chinese sign-in page."""
    page.goto("/accounts/login/")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(lands_on))


def swapped(page: Page, selector: str, action) -> None:
    """Do ``action`` and wait until htmx has replaced the element at ``selector``."""
    page.locator(selector).evaluate("element => element.setAttribute('data-old', '1')")
    action()
    page.locator(f"{selector}:not([data-old])").wait_for(state="attached")


def console_step(page: Page, action: str, button: str, notice: str, fill=None) -> None:
    """One action card of the console's order page: fill it, press it, read the notice."""
    form = page.locator(f'form[data-action="{action}"]')
    if fill is not None:
        fill(form)
    swapped(page, "#wo-body", lambda: form.get_by_role("button", name=button, exact=True).click())
    expect(page.locator("#wo-body [data-error]")).to_have_count(0)
    expect(page.locator("#wo-body .message.success")).to_have_text(notice)


def tech_step(page: Page, button: str, notice: str) -> None:
    """One button on the technician's job page, and the notice it answers with."""
    swapped(page, "#tech-job", lambda: page.get_by_role("button", name=button, exact=True).click())
    expect(page.locator("#tech-job .tech-alert.error")).to_have_count(0)
    expect(page.locator("#tech-job .tech-alert.success")).to_have_text(notice)


def open_from_queue(page: Page, number: str) -> None:
    """From the console home: 工单 → the order's row → its page."""
    page.get_by_role("link", name="工单", exact=True).click()
    page.locator(f'tr[data-number="{number}"]').get_by_role("link", name=number).click()
    page.wait_for_url(re.compile(rf"/console/work-orders/{number}/$"))


def open_job(page: Page, number: str) -> None:
    """From the technician's job list to the job."""
    page.goto("/tech/jobs/")
    page.locator("a.tech-card", has_text=number).click()
    page.wait_for_url(re.compile(rf"/tech/jobs/{number}/$"))


def sms_code() -> str:
    match = re.search(r"\d{6}", FakeSmsBackend.outbox[-1].text)
    assert match is not None
    return match.group(0)


def report_contact(page: Page, *, name: str, phone: str) -> None:
    """Name, number and the SMS code, as the customer types them on the report form."""
    page.get_by_label("您的姓名").fill(name)
    page.get_by_label("手机号", exact=True).fill(phone)
    page.get_by_role("button", name="发送验证码").click()
    page.locator("#sms-code-status").get_by_text("验证码已发送").wait_for()
    page.get_by_label("验证码", exact=True).fill(sms_code())


def submit_report(page: Page) -> WorkOrder:
    page.get_by_role("button", name="提交报修").click()
    page.get_by_role("heading", name="报修成功").wait_for()
    number = page.locator(".order-number").inner_text().strip()
    expect(page.locator(".done .badge")).to_have_text("待受理")
    return WorkOrder.objects.get(number=number)


def tracking(page: Page, order: WorkOrder) -> list[str]:
    """Open the customer's tracking link; the timeline's sentences, newest first."""
    page.goto(f"/t/{order.tracking_token}/")
    return page.locator("#order ol.timeline li p").all_inner_texts()


def status_badge(page: Page):
    return page.locator("#order .order-head .badge")


def rate(page: Page, stars: dict[str, int], comment: str = "") -> None:
    """Tap the stars of each dimension, write the comment and send the rating."""
    for legend, count in stars.items():
        group = page.get_by_role("group", name=legend)
        group.locator("label.star").nth(count - 1).click()
        expect(group.get_by_role("radio", name=f"{count} 星")).to_be_checked()
    if comment:
        page.get_by_label("评价内容(选填)").fill(comment)
    swapped(page, "#order", lambda: page.get_by_role("button", name="提交评价").click())
    expect(page.locator("#order .notice.ok")).to_have_text("感谢您的评价!")
    page.get_by_role("heading", name="您的评价").wait_for()


def window(start: dt.datetime, end: dt.datetime) -> str:
    """How the customer's page writes a time window in Chinese: ``11月23日 10:00–12:00``."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    return f"{start:%m}月{start.day}日 {start:%H:%M}–{end:%H:%M}"


def local_input(moment: dt.datetime) -> str:
    """The value of a datetime-local input in the site's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def event_types(order: WorkOrder) -> list[str]:
    return list(order.events.order_by("created_at", "pk").values_list("type", flat=True))


def draw_signature(page: Page) -> None:
    pad = page.locator("canvas[data-signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 50)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 50 + (step % 3) * 20)
    page.mouse.up()


def price_catalog(organization: Organization, fault_type: FaultType, lines) -> None:
    """Price-list rows and the fault type's lines: (code, price, optional)."""
    for code, price, optional in lines:
        PriceListItemFactory(
            organization=organization,
            code=code,
            unit_price=Decimal(price),
            valid_from=dt.date(2020, 1, 1),
        )
        FaultTypeLineFactory(
            fault_type=fault_type, item_code=code, quantity=Decimal("1"), is_optional=optional
        )


STARS = ("服务态度", "专业水平", "响应速度", "服务流程与价格透明")


# --- (a) a phone brought to an outlet -------------------------------------------------------


@dataclass
class PhoneShop:
    org: Organization
    model: ProductModel
    fault: FaultType
    outlet: Outlet
    technician: Technician


@pytest.fixture
def phone_shop(db) -> PhoneShop:
    org = OrganizationFactory(name="星耀手机", code="xingyao", kind="brand")
    ServiceTypeFactory(organization=org, name="手机维修")
    category = CategoryFactory(organization=org, name="手机")
    brand = BrandFactory(organization=org, name="星耀")
    model = ProductModelFactory(organization=org, category=category, brand=brand, name="X20 Pro")
    fault = FaultTypeFactory(organization=org, category=category, name="屏幕碎裂")
    # the screen and the labour always, the protective film if she wants it
    price_catalog(
        org,
        fault,
        [
            ("screen-x20", "599.00", False),
            ("labour-phone", "80.00", False),
            ("film", "50.00", True),
        ],
    )
    outlet = OutletFactory(
        organization=org, name="星耀授权服务中心(西湖店)", city="杭州市", district="西湖区"
    )
    member(org, "agent", "+8613900001001", "客服小林")
    zhou = member(org, "technician", "+8613900001002", "周师傅")
    technician = TechnicianFactory(organization=org, user=zhou, outlet=outlet)
    return PhoneShop(org, model, fault, outlet, technician)


def test_a_phone_with_a_broken_screen_is_repaired_at_the_outlet(screen, phone_shop):
    shop = phone_shop
    customer, agent, technician = screen(PHONE), screen(DESKTOP), screen(PHONE)

    # given a customer on her phone who reports a broken screen and will bring it in
    customer.goto("/report/xingyao/")
    swapped(
        customer,
        "#id_product_model",
        lambda: customer.get_by_label("品牌", exact=True).select_option(str(shop.model.brand_id)),
    )
    swapped(
        customer,
        "#id_fault_type",
        lambda: customer.get_by_label("型号", exact=True).select_option(str(shop.model.pk)),
    )
    customer.get_by_label("故障类型", exact=True).select_option(str(shop.fault.pk))
    # she sees the price before committing: screen and labour, the film optional
    expect(customer.locator("#estimate .price-headline")).to_have_text("¥679 – ¥729")
    customer.get_by_label("到店维修").check()
    expect(customer.get_by_label("详细地址")).to_be_hidden()
    # the outlets authorised for her phone, compared; this one takes no online bookings
    customer.locator(f"#outlet-{shop.outlet.pk}").check()
    customer.get_by_label("故障描述").fill("手机摔了一下,屏幕碎裂,触摸失灵")
    customer.get_by_label("时段").select_option("10")
    report_contact(customer, name="陈女士", phone="138 0013 8001")
    order = submit_report(customer)
    expect(customer.get_by_text(order.number)).to_be_visible()
    expect(customer.locator(".done .price-headline")).to_have_text("¥679 – ¥729")
    customer.get_by_role("link", name="查看工单进度").click()
    expect(status_badge(customer)).to_have_text("待受理")

    # when the agent accepts it, gives it to the outlet and books the drop-off
    sign_in(agent, "13900001001", r"/console/$")
    open_from_queue(agent, order.number)
    console_step(agent, "accept", "受理", "工单已受理。")
    console_step(
        agent,
        "assign-outlet",
        "派单给网点",
        "工单已派给网点。",
        lambda form: form.get_by_label("网点").select_option(str(shop.outlet.pk)),
    )
    order.refresh_from_db()
    start, end = order.preferred_start, order.preferred_end
    console_step(
        agent,
        "schedule",
        "保存预约",
        "预约已保存。",
        lambda form: (
            form.get_by_label("预约开始").fill(local_input(start)),
            form.get_by_label("预约结束").fill(local_input(end)),
        ),
    )
    # and hands the repair to the outlet's technician
    console_step(
        agent,
        "assign-technician",
        "派单给工程师",
        "工单已派给工程师。",
        lambda form: form.get_by_label("周师傅").check(),
    )
    timeline = tracking(customer, order)
    assert timeline[:3] == [
        "已为您安排工程师 周师傅",
        f"预约到店时间 {window(start, end)}",
        "服务网点:星耀授权服务中心(西湖店)",
    ]

    # then the technician takes the job, receives the phone, diagnoses, repairs and calls her
    sign_in(technician, "13900001002", r"/tech/$")
    open_job(technician, order.number)
    tech_step(technician, "接单", "已接单。")
    tech_step(technician, "已收机", "已接收设备,维修开始。")
    assert tracking(customer, order)[0] == "网点已收到您的设备,开始维修"
    expect(status_badge(customer)).to_have_text("维修中")
    technician.get_by_label("检测结果").fill("外屏及显示总成损坏,主板正常")
    tech_step(technician, "保存检测结果", "已保存。")
    technician.get_by_label("维修内容").fill("更换原厂屏幕总成,贴膜")
    tech_step(technician, "保存维修内容", "已保存。")
    tech_step(technician, "可取机", "已通知客户设备可以取回。")
    assert tracking(customer, order)[:3] == [
        "维修完成,可以取件了",
        "维修内容:更换原厂屏幕总成,贴膜",
        "检测结果:外屏及显示总成损坏,主板正常",
    ]
    expect(status_badge(customer)).to_have_text("服务完成")
    tech_step(technician, "已交还客户", "已交还客户,工单已关闭。")

    # and the customer, on her tracking page, sees it closed and rates the service
    assert tracking(customer, order)[0] == "您已取回设备"
    expect(status_badge(customer)).to_have_text("已完成")
    rate(customer, dict(zip(STARS, (5, 5, 4, 5), strict=True)), "换屏很快,师傅很专业")

    order.refresh_from_db()
    assert order.status == "closed"
    assert (order.outlet_id, order.technician_id) == (shop.outlet.pk, shop.technician.pk)
    assert (order.appointment_start, order.appointment_end) == (start, end)
    assert (order.estimate_low, order.estimate_high) == (Decimal("679.00"), Decimal("729.00"))
    assert event_types(order) == [
        "created",
        "status_changed",
        "outlet_assigned",
        "appointment_confirmed",
        "technician_assigned",
        "assignment_accepted",
        "device_received",
        "diagnosed",
        "work_reported",
        "ready_for_pickup",
        "handed_over",
        "rated",
    ]
    assert list(order.events.values_list("actor_role", flat=True).order_by("pk")) == [
        "customer",
        *["agent"] * 4,
        *["technician"] * 6,
        "customer",
    ]
    assert Visit.objects.filter(work_order=order).count() == 0
    rating = Rating.objects.get(work_order=order)
    assert (
        rating.attitude,
        rating.professionalism,
        rating.responsiveness,
        rating.transparency,
        rating.average,
        rating.comment,
    ) == (5, 5, 4, 5, Decimal("4.75"), "换屏很快,师傅很专业")
    shop.technician.refresh_from_db()
    shop.outlet.refresh_from_db()
    assert (shop.technician.rating, shop.technician.rating_count) == (Decimal("4.75"), 1)
    assert (shop.outlet.rating_count, shop.outlet.rating_total) == (1, Decimal("4.75"))
    assert tracking(customer, order)[0] == "您已评价,平均 4.75 分(满分 5 分)"


# --- (b) an air conditioner repaired at home ------------------------------------------------


@dataclass
class ApplianceBrand:
    org: Organization
    model: ProductModel
    fault: FaultType
    technician: Technician


@pytest.fixture
def appliance_brand(db) -> ApplianceBrand:
    org = OrganizationFactory(name="清风空调", code="qingfeng", kind="brand")
    ServiceTypeFactory(organization=org, name="上门维修")
    category = CategoryFactory(organization=org, name="空调")
    brand = BrandFactory(organization=org, name="清风")
    model = ProductModelFactory(organization=org, category=category, brand=brand, name="KFR-35GW")
    fault = FaultTypeFactory(organization=org, category=category, name="不制冷")
    price_catalog(org, fault, [("labour-ac", "80.00", False), ("gas", "150.00", True)])
    outlet = OutletFactory(organization=org, name="清风西湖服务站", city="杭州市")
    member(org, "agent", "+8613900002001", "客服小王")
    wang = member(org, "technician", "+8613900002002", "王师傅")
    technician = TechnicianFactory(organization=org, user=wang, outlet=outlet)
    return ApplianceBrand(org, model, fault, technician)


def test_an_air_conditioner_is_repaired_at_home_and_rated(screen, appliance_brand):
    brand = appliance_brand
    customer, agent = screen(PHONE), screen(DESKTOP)
    technician = screen(PHONE)
    technician.context.grant_permissions(["geolocation"])
    technician.context.set_geolocation(AT_THE_DOOR)

    # given a customer who asks for an engineer at home, not sure what the fault is
    customer.goto("/report/qingfeng/")
    swapped(
        customer,
        "#id_product_model",
        lambda: customer.get_by_label("品牌", exact=True).select_option(str(brand.model.brand_id)),
    )
    swapped(
        customer,
        "#id_fault_type",
        lambda: customer.get_by_label("型号", exact=True).select_option(str(brand.model.pk)),
    )
    expect(customer.get_by_label("上门服务")).to_be_checked()
    customer.get_by_label("故障描述").fill("空调开机吹热风,不制冷")
    customer.get_by_label("城市").fill("杭州市")
    customer.get_by_label("详细地址").fill("西湖区文三路 90 号 3 单元 502")
    customer.get_by_label("时段").select_option("14")
    report_contact(customer, name="赵先生", phone="13800138002")
    order = submit_report(customer)
    assert (order.fulfilment_mode, order.fault_type_id, order.estimate_low) == (
        "on_site",
        None,
        None,
    )

    # when the agent accepts it, then triages the fault and the priority
    sign_in(agent, "13900002001", r"/console/$")
    open_from_queue(agent, order.number)
    console_step(agent, "accept", "受理", "工单已受理。")
    console_step(
        agent,
        "triage",
        "保存分诊",
        "故障类型和优先级已保存。",
        lambda form: (
            form.get_by_label("故障类型").select_option(str(brand.fault.pk)),
            form.get_by_label("优先级").select_option("high"),
        ),
    )
    # and gives it to the technician
    console_step(
        agent,
        "assign-technician",
        "派单给工程师",
        "工单已派给工程师。",
        lambda form: form.get_by_label("王师傅").check(),
    )
    assert tracking(customer, order)[:2] == ["已为您安排工程师 王师傅", "已受理您的报修"]
    expect(status_badge(customer)).to_have_text("已接单")
    # the price the triage set is what the customer now sees
    expect(customer.locator("#order .price-headline")).to_have_text("¥80 – ¥230")

    # then the technician takes the job, confirms her time, sets off and checks in at the door
    sign_in(technician, "13900002002", r"/tech/$")
    open_job(technician, order.number)
    tech_step(technician, "接单", "已接单。")
    swapped(
        technician,
        "#tech-job",
        lambda: technician.get_by_role("button", name="确认客户期望的时间").click(),
    )
    expect(technician.locator("#tech-job .tech-alert.success")).to_have_text(
        "已确认客户期望的时间。"
    )
    tech_step(technician, "我已出发", "客户已看到您已出发。")
    assert tracking(customer, order)[0] == "工程师已出发"
    tech_step(technician, "签到并开始服务", "已签到,服务开始。")
    assert tracking(customer, order)[0] == "工程师已到达,开始维修"
    expect(status_badge(customer)).to_have_text("维修中")

    # and takes the photo before, writes the report, takes the photo after
    def upload(label: str, name: str) -> None:
        technician.get_by_label(label, exact=True).set_input_files(
            {"name": name, "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}
        )
        tech_step(technician, f"上传{label}", "照片已上传。")

    upload("维修前照片", "before.jpg")
    technician.get_by_label("检测结果").fill("冷媒泄漏,室外机低压阀接头松动")
    technician.get_by_label("维修内容").fill("紧固接头,补充冷媒 R32")
    tech_step(technician, "保存报告", "已保存。")
    upload("维修后照片", "after.jpg")
    # and the customer signs on his screen before he finishes the visit as fixed
    draw_signature(technician)
    tech_step(technician, "保存签字", "客户签字已保存。")
    technician.get_by_label("已修好", exact=True).check()
    tech_step(technician, "结束本次上门", "本次上门已结束。")
    assert tracking(customer, order)[0] == "维修完成"
    expect(status_badge(customer)).to_have_text("服务完成")
    for photo in ("维修前照片 1", "维修后照片 1"):
        image = customer.get_by_role("img", name=photo)
        image.scroll_into_view_if_needed()
        customer.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )

    # and the customer confirms in 我的服务 and rates the four dimensions
    customer.goto(f"/my/orders/{order.number}/")
    swapped(
        customer,
        "#order",
        lambda: customer.get_by_role("button", name="已修好,确认服务完成").click(),
    )
    expect(customer.locator("#order .notice.ok")).to_have_text("感谢确认,工单已完结。")
    rate(customer, dict(zip(STARS, (5, 4, 5, 5), strict=True)), "师傅准时上门,讲解清楚")

    order.refresh_from_db()
    assert (order.status, order.priority, order.fault_type_id) == (
        "closed",
        "high",
        brand.fault.pk,
    )
    assert (order.appointment_start, order.appointment_end) == (
        order.preferred_start,
        order.preferred_end,
    )
    assert event_types(order) == [
        "created",
        "status_changed",
        "triaged",
        "technician_assigned",
        "assignment_accepted",
        "appointment_confirmed",
        "en_route",
        "checked_in",
        "attachment_added",
        "diagnosed",
        "work_reported",
        "attachment_added",
        "signed",
        "completed",
        "completion_confirmed",
        "rated",
    ]
    visit = Visit.objects.get(work_order=order)
    assert (
        visit.status,
        visit.outcome,
        visit.technician_id,
        visit.check_in_latitude,
        visit.check_in_longitude,
        visit.check_out_latitude,
        visit.check_out_longitude,
        visit.diagnosis,
        visit.work_done,
    ) == (
        "done",
        "fixed",
        brand.technician.pk,
        Decimal("30.280100"),
        Decimal("120.130200"),
        Decimal("30.280100"),
        Decimal("120.130200"),
        "冷媒泄漏,室外机低压阀接头松动",
        "紧固接头,补充冷媒 R32",
    )
    photos = Attachment.objects.filter(
        work_order=order, kind__in=["before_photo", "after_photo"]
    ).order_by("pk")
    assert [(photo.kind, photo.visit_id) for photo in photos] == [
        ("before_photo", visit.pk),
        ("after_photo", visit.pk),
    ]
    for photo in photos:
        with photo.file.open("rb") as stored:
            data = stored.read()
        assert Image.open(io.BytesIO(data)).getexif() == {}
        assert b"PhoneMaker" not in data
    assert Attachment.objects.filter(work_order=order, kind="signature").count() == 1
    rating = Rating.objects.get(work_order=order)
    assert (
        rating.attitude,
        rating.professionalism,
        rating.responsiveness,
        rating.transparency,
        rating.comment,
        rating.technician_id,
    ) == (5, 4, 5, 5, "师傅准时上门,讲解清楚", brand.technician.pk)
    brand.technician.refresh_from_db()
    assert (brand.technician.rating, brand.technician.rating_count) == (Decimal("4.75"), 1)
    # the customer's whole story, in his words, newest first (the triage stays with staff)
    assert tracking(customer, order) == [
        "您已评价,平均 4.75 分(满分 5 分)",
        "您已确认服务完成",
        "维修完成",
        "您已签字确认",
        "已上传照片",
        "维修内容:紧固接头,补充冷媒 R32",
        "检测结果:冷媒泄漏,室外机低压阀接头松动",
        "已上传照片",
        "工程师已到达,开始维修",
        "工程师已出发",
        f"预约上门时间 {window(order.preferred_start, order.preferred_end)}",
        "工程师 王师傅 已接单",
        "已为您安排工程师 王师傅",
        "已受理您的报修",
        "报修已提交",
    ]


# --- (c) a car at a merchant workshop of a platform -----------------------------------------


@dataclass
class CarPlatform:
    platform: Organization
    workshop: Organization
    outlet: Outlet
    mechanic: Technician
    fault: FaultType
    category_id: int


@pytest.fixture
def car_platform(db) -> CarPlatform:
    platform = OrganizationFactory(name="车无忧平台", code="cheyouyou", kind="platform")
    ServiceTypeFactory(organization=platform, name="汽车维修保养")
    category = CategoryFactory(organization=platform, name="乘用车")
    fault = FaultTypeFactory(organization=platform, category=category, name="刹车异响")
    price_catalog(platform, fault, [("brake-pads", "360.00", False), ("disc", "400.00", True)])
    workshop = OrganizationFactory(
        name="老陈汽修", code="laochen", kind="merchant", parent=platform
    )
    outlet = OutletFactory(
        organization=workshop,
        name="老陈汽修(滨江店)",
        city="杭州市",
        district="滨江区",
        service_bays=2,
    )
    for weekday in range(7):
        OpeningHoursFactory(
            outlet=outlet, weekday=weekday, opens_at=dt.time(8), closes_at=dt.time(18)
        )
    # another workshop of the same network, and its own outlet
    neighbour = OrganizationFactory(
        name="快修一号", code="kuaixiu", kind="merchant", parent=platform
    )
    OutletFactory(organization=neighbour, name="快修一号(萧山店)", city="杭州市")
    member(platform, "agent", "+8613900003001", "平台客服小周")
    member(workshop, "outlet_manager", "+8613900003002", "陈店长")
    member(neighbour, "agent", "+8613900003003", "快修客服")
    lu = member(workshop, "technician", "+8613900003004", "陆技师")
    mechanic = TechnicianFactory(organization=workshop, user=lu, outlet=outlet)
    return CarPlatform(platform, workshop, outlet, mechanic, fault, category.pk)


VIN = "LSVAU2180N2183294"


def test_a_car_is_booked_on_the_platform_and_repaired_by_the_workshop(screen, car_platform):
    world = car_platform
    driver, agent, manager, neighbour = (
        screen(PHONE),
        screen(DESKTOP),
        screen(DESKTOP),
        screen(DESKTOP),
    )

    # given a driver who books the workshop on the platform, with the car's VIN
    driver.goto("/report/cheyouyou/")
    swapped(
        driver,
        "#fault-type-field",
        lambda: driver.get_by_label("产品品类").select_option(str(world.category_id)),
    )
    driver.get_by_label("车架号").fill(VIN)
    driver.get_by_label("故障类型", exact=True).select_option(str(world.fault.pk))
    expect(driver.locator("#estimate .price-headline")).to_have_text("¥360 – ¥760")
    driver.get_by_label("故障描述").fill("踩刹车时前轮有金属摩擦声")
    driver.get_by_label("到店维修").check()
    # she compares the workshops and books a bay for tomorrow at ten (到店时间)
    driver.locator(f"#outlet-{world.outlet.pk}").check()
    tomorrow_ten = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time(10))
    )
    driver.locator(f'input[name="slot_start"][value="{tomorrow_ten.isoformat()}"]').check()
    expect(driver.get_by_label("时段")).to_be_hidden()
    report_contact(driver, name="刘先生", phone="13800138003")
    order = submit_report(driver)
    assert (order.organization_id, order.service_organization_id, order.device_identifier) == (
        world.platform.pk,
        world.workshop.pk,
        VIN,
    )
    assert (order.preferred_start, order.slot_booking.start) == (tomorrow_ten, tomorrow_ten)

    # when the platform's agent accepts it and dispatches it to the workshop's outlet
    sign_in(agent, "13900003001", r"/console/$")
    open_from_queue(agent, order.number)
    console_step(agent, "accept", "受理", "工单已受理。")
    console_step(
        agent,
        "assign-outlet",
        "派单给网点",
        "工单已派给网点。",
        lambda form: form.get_by_label("网点").select_option(str(world.outlet.pk)),
    )
    assert tracking(driver, order)[0] == "服务网点:老陈汽修(滨江店)"

    # then the workshop's manager sees it in the workshop's own console and runs the repair
    sign_in(manager, "13900003002", r"/console/$")
    expect(manager.get_by_role("heading", name="老陈汽修", exact=True)).to_be_visible()
    open_from_queue(manager, order.number)
    console_step(
        manager,
        "assign-technician",
        "派单给工程师",
        "工单已派给工程师。",
        lambda form: form.get_by_label("陆技师").check(),
    )
    start, end = order.preferred_start, order.preferred_end
    console_step(
        manager,
        "schedule",
        "保存预约",
        "预约已保存。",
        lambda form: (
            form.get_by_label("预约开始").fill(local_input(start)),
            form.get_by_label("预约结束").fill(local_input(end)),
        ),
    )
    assert tracking(driver, order)[0] == f"预约到店时间 {window(start, end)}"
    console_step(manager, "receive", "接收设备", "设备已接收,开始维修。")
    console_step(
        manager,
        "report",
        "保存报告",
        "已保存。",
        lambda form: form.get_by_label("检测结果").fill("前刹车片磨损到极限,刹车盘轻微划痕"),
    )
    console_step(
        manager,
        "report",
        "保存报告",
        "已保存。",
        lambda form: form.get_by_label("维修内容").fill("更换前刹车片,打磨刹车盘"),
    )
    console_step(manager, "ready", "可取机", "设备已修好,等待取机。")
    assert tracking(driver, order)[:3] == [
        "维修完成,可以取件了",
        "维修内容:更换前刹车片,打磨刹车盘",
        "检测结果:前刹车片磨损到极限,刹车盘轻微划痕",
    ]
    console_step(manager, "hand-over", "已交付", "设备已交还客户。")

    # and another workshop of the same platform cannot open the order
    sign_in(neighbour, "13900003003", r"/console/$")
    answer = neighbour.goto(f"/console/work-orders/{order.number}/")
    assert answer is not None and answer.status == 404
    queue = neighbour.goto("/console/work-orders/")
    assert queue is not None and queue.status == 200
    expect(neighbour.locator(f'tr[data-number="{order.number}"]')).to_have_count(0)

    # and the driver rates the service on the tracking link
    assert tracking(driver, order)[0] == "您已取回设备"
    expect(status_badge(driver)).to_have_text("已完成")
    rate(driver, dict(zip(STARS, (4, 5, 4, 4), strict=True)), "价格透明,当天修好")

    order.refresh_from_db()
    assert (order.status, order.outlet_id, order.technician_id) == (
        "closed",
        world.outlet.pk,
        world.mechanic.pk,
    )
    assert (order.appointment_start, order.appointment_end) == (start, end)
    assert event_types(order) == [
        "created",
        "status_changed",
        "outlet_assigned",
        "technician_assigned",
        "appointment_confirmed",
        "device_received",
        "diagnosed",
        "work_reported",
        "ready_for_pickup",
        "handed_over",
        "rated",
    ]
    assert list(order.events.order_by("pk").values_list("actor__display_name", flat=True)) == [
        "刘先生",
        *["平台客服小周"] * 2,
        *["陈店长"] * 7,
        "刘先生",
    ]
    rating = Rating.objects.get(work_order=order)
    assert (
        rating.attitude,
        rating.professionalism,
        rating.responsiveness,
        rating.transparency,
        rating.average,
        rating.outlet_id,
    ) == (4, 5, 4, 4, Decimal("4.25"), world.outlet.pk)
    world.outlet.refresh_from_db()
    world.mechanic.refresh_from_db()
    assert (world.outlet.rating_count, world.outlet.rating_total) == (1, Decimal("4.25"))
    assert (world.mechanic.rating, world.mechanic.rating_count) == (Decimal("4.25"), 1)
