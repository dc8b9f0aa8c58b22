from django.urls import path

from shouhou.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("badge/", views.inbox_badge, name="inbox-badge"),
    path("<int:pk>/read/", views.inbox_read, name="inbox-read"),
    path("settings/", views.preferences, name="preferences"),
    path("settings/push/", views.push_subscribe, name="push-subscribe"),
    path("settings/push/stop/", views.push_unsubscribe, name="push-unsubscribe"),
    path("settings/push/<int:pk>/delete/", views.push_delete, name="push-delete"),
]
