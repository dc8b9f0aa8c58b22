from django.urls import path

from shouhou.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("badge/", views.inbox_badge, name="inbox-badge"),
    path("<int:pk>/read/", views.inbox_read, name="inbox-read"),
    path("settings/", views.preferences, name="preferences"),
]
