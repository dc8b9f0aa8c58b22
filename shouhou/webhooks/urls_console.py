"""Webhook pages of the staff console, mounted at /console/webhooks/ ("webhooks_console")."""

from django.urls import path

from shouhou.webhooks import views

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("new/", views.endpoint_create, name="create"),
    path("<int:pk>/", views.endpoint_detail, name="detail"),
    path("<int:pk>/edit/", views.endpoint_edit, name="edit"),
    path("<int:pk>/rotate-secret/", views.endpoint_rotate, name="rotate"),
    path("<int:pk>/enable/", views.endpoint_set_active, {"is_active": True}, name="enable"),
    path("<int:pk>/disable/", views.endpoint_set_active, {"is_active": False}, name="disable"),
    path("<int:pk>/delete/", views.endpoint_delete, name="delete"),
    path("<int:pk>/test/", views.endpoint_test, name="test"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/replay/", views.delivery_replay, name="replay"),
]
