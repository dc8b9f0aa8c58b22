"""The staff console's work-order pages, mounted at /console/work-orders/ ("wo_console")."""

from django.urls import path

from shouhou.workorders.views import console as views
from shouhou.workorders.views import live

urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.workorder_new, name="create"),
    path("stream/", live.console_stream, name="stream"),
    path("new/caller/", views.caller_lookup, name="caller-lookup"),
    path("follow-ups/", views.follow_up_list, name="follow-up-list"),
    path("follow-ups/<int:pk>/resolve/", views.follow_up_resolve, name="follow-up-resolve"),
    path("<str:number>/", views.workorder_detail, name="detail"),
    path(
        "<str:number>/attachments/<str:token>/",
        views.attachment_file,
        name="attachment",
    ),
    *[
        path(f"<str:number>/{name}/", views.workorder_action, {"action": name}, name=name)
        for name in views.ACTIONS
    ],
]
