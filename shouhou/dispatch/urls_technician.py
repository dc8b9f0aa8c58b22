"""The technician's offers and job pool, mounted at /tech/ with the namespace "dispatch_tech"."""

from django.urls import path

from shouhou.dispatch import views_technician as views

urlpatterns = [
    path("offers/", views.offer_list, name="offers"),
    path("offers/<int:pk>/accept/", views.offer_answer, {"answer": "accept"}, name="offer-accept"),
    path(
        "offers/<int:pk>/decline/", views.offer_answer, {"answer": "decline"}, name="offer-decline"
    ),
    path("pool/", views.pool_list, name="pool"),
    path("pool/<int:pk>/grab/", views.pool_grab, name="pool-grab"),
]
