"""The dispatch board of the staff console, mounted at /console/dispatch/ ("dispatch_console")."""

from django.urls import path

from shouhou.dispatch import views_console as views

urlpatterns = [
    path("", views.board, name="board"),
    path("batch/", views.batch, name="batch"),
    path("orders/<str:number>/", views.board_order, name="order"),
    path("orders/<str:number>/assign/", views.board_assign, name="assign"),
    path("orders/<str:number>/pool/", views.pool_publish, name="pool"),
]
