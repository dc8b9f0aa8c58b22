from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from shouhou.accounts import views as accounts
from shouhou.catalog import views as catalog
from shouhou.core import views as core
from shouhou.customers import views as customers
from shouhou.notifications import views as notifications

accounts_patterns = (
    [
        path("login/", accounts.login_view, name="login"),
        path("login/sms/", accounts.sms_login_view, name="login-sms"),
        path("login/sms/code/", accounts.sms_code_request_view, name="sms-code"),
        path("logout/", accounts.logout_view, name="logout"),
    ],
    "accounts",
)

console_patterns = (
    [
        path("", accounts.console_dashboard, name="dashboard"),
        path("switch/", core.console_switch, name="switch"),
        path("outlets/", accounts.outlet_list, name="outlet-list"),
        path("outlets/<int:pk>/", accounts.outlet_detail, name="outlet-detail"),
        path("members/", accounts.member_list, name="member-list"),
        path("catalog/", catalog.catalog_overview, name="catalog"),
        path("catalog/faults/", catalog.fault_type_list, name="fault-type-list"),
        path("catalog/faults/<int:pk>/", catalog.fault_type_detail, name="fault-type-detail"),
        path("prices/", catalog.price_list, name="price-list"),
    ],
    "console",
)

urlpatterns = [
    # The API first: it takes the busiest requests (intake), and URLs are tried in order.
    path("api/v1/", include("shouhou.api.urls")),
    path("", core.home, name="home"),
    path("healthz", core.healthz, name="healthz"),
    path("sw.js", notifications.service_worker, name="service-worker"),
    path("language/", core.set_language, name="set-language"),
    path("text-size/", core.set_text_size, name="set-text-size"),
    path("accounts/", include(accounts_patterns)),
    path("my/", customers.customer_home, name="customer-home"),
    path("tech/", accounts.technician_home, name="technician-home"),
    path("console/", include(console_patterns)),
    path("console/work-orders/", include(("shouhou.workorders.urls_console", "wo_console"))),
    path("console/dispatch/", include(("shouhou.dispatch.urls_console", "dispatch_console"))),
    path("console/webhooks/", include(("shouhou.webhooks.urls_console", "webhooks_console"))),
    path("tech/jobs/", include(("shouhou.workorders.urls_technician", "wo_tech"))),
    path("tech/", include(("shouhou.dispatch.urls_technician", "dispatch_tech"))),
    path("", include(("shouhou.workorders.urls_customer", "wo_customer"))),
    path("inbox/", include("shouhou.notifications.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
