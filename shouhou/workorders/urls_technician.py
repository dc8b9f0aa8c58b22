"""The technician's workbench, mounted at /tech/jobs/ with the namespace "wo_tech"."""

from django.urls import path

from shouhou.workorders.views import live
from shouhou.workorders.views import technician as views

urlpatterns = [
    path("", views.job_list, name="list"),
    path("stream/", live.technician_stream, name="stream"),
    path("<str:number>/", views.job_detail, name="detail"),
    path(
        "<str:number>/attachments/<slug:token>/",
        views.job_attachment,
        name="attachment",
    ),
    path(
        "<str:number>/attachments/<slug:token>/thumbnail/",
        views.job_attachment,
        {"thumbnail": True},
        name="attachment-thumbnail",
    ),
    # One URL per step, each a POST that calls one service: wo_tech:accept, wo_tech:check-in, ...
    *(
        path(f"<str:number>/{action}/", views.job_action, {"action": action}, name=action)
        for action in views.ACTIONS
    ),
]
