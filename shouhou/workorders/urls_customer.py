"""The customer's work-order pages, mounted at the site root with namespace "wo_customer"."""

from django.urls import path

from shouhou.workorders.views import customer as views
from shouhou.workorders.views import live

urlpatterns = [
    # 报修
    path("report/", views.report_index, name="report-index"),
    path("report/<slug:org_code>/", views.report, name="report"),
    path("report/<slug:org_code>/choices/", views.report_choices, name="report-choices"),
    path("report/<slug:org_code>/estimate/", views.report_estimate, name="estimate"),
    path("report/<slug:org_code>/outlets/", views.report_outlets, name="report-outlets"),
    path("report/<slug:org_code>/code/", views.report_code, name="report-code"),
    path("report/<slug:org_code>/done/<str:token>/", views.report_done, name="report-done"),
    # tracking by link: reading needs only the link; changing needs the customer's identity
    path("t/<str:token>/", views.track, name="track"),
    path("t/<str:token>/stream/", live.track_stream, name="track-stream"),
    path("t/<str:token>/code/", views.track_code, name="track-code"),
    path("t/<str:token>/verify/", views.track_verify, name="track-verify"),
    path("t/<str:token>/<slug:action>/", views.track_action, name="track-action"),
    # 我的服务
    path("my/orders/", views.my_orders, name="my-orders"),
    path("my/orders/<str:number>/", views.my_order, name="my-order"),
    path("my/orders/<str:number>/stream/", live.my_order_stream, name="my-order-stream"),
    path("my/orders/<str:number>/<slug:action>/", views.my_order_action, name="my-order-action"),
    # photos and videos, only for people who may see the order
    path("attachments/<str:token>/", views.attachment_file, name="attachment"),
    path("attachments/<str:token>/thumb/", views.attachment_thumbnail, name="attachment-thumb"),
]
