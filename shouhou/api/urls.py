"""The one versioned router every app registers its API views on."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from shouhou.accounts.api.views import (
    OrganizationViewSet,
    OutletViewSet,
    SmsCodeRequestView,
    TokenView,
)
from shouhou.catalog.api import views as catalog
from shouhou.dispatch.api import routes as dispatch_routes
from shouhou.dispatch.api import slots as dispatch_slots
from shouhou.dispatch.api import views as dispatch
from shouhou.dispatch.api.board import DispatchBatchView, DispatchBoardView
from shouhou.notifications.api import views as notifications
from shouhou.sla.api import views as sla
from shouhou.webhooks.api import views as webhooks
from shouhou.workorders.api.views import WorkOrderViewSet

router = DefaultRouter()
# Work orders first: the busiest routes are matched with the fewest patterns tried.
router.register("work-orders", WorkOrderViewSet, basename="work-order")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("outlets", OutletViewSet, basename="outlet")
router.register("categories", catalog.CategoryViewSet, basename="category")
router.register("brands", catalog.BrandViewSet, basename="brand")
router.register("product-models", catalog.ProductModelViewSet, basename="product-model")
router.register("service-types", catalog.ServiceTypeViewSet, basename="service-type")
router.register("skills", catalog.SkillViewSet, basename="skill")
router.register("fault-types", catalog.FaultTypeViewSet, basename="fault-type")
router.register("price-items", catalog.PriceItemViewSet, basename="price-item")
router.register("offers", dispatch.OfferViewSet, basename="offer")
router.register("pool", dispatch.PoolViewSet, basename="pool-job")
router.register("slot-bookings", dispatch_slots.SlotBookingViewSet, basename="slot-booking")
router.register("webhooks/endpoints", webhooks.WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhooks/deliveries", webhooks.WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("sla-policies", sla.SlaPolicyViewSet, basename="sla-policy")

app_name = "api"
urlpatterns = [
    path("auth/sms-codes/", SmsCodeRequestView.as_view(), name="sms-code-request"),
    path("auth/token/", TokenView.as_view(), name="token"),
    path(
        "technicians/<int:technician_id>/routes/<str:day>/",
        dispatch_routes.TechnicianRouteView.as_view(),
        name="technician-route",
    ),
    path(
        "technicians/<int:technician_id>/routes/<str:day>/replan/",
        dispatch_routes.TechnicianRouteReplanView.as_view(),
        name="technician-route-replan",
    ),
    path(
        "dispatch/success-rate/",
        dispatch.SuccessRateView.as_view(),
        name="dispatch-success-rate",
    ),
    path("dispatch/batch/", DispatchBatchView.as_view(), name="dispatch-batch"),
    path("dispatch/board/", DispatchBoardView.as_view(), name="dispatch-board"),
    path("outlet-matches/", dispatch_slots.OutletMatchView.as_view(), name="outlet-matches"),
    path("outlets/<int:pk>/slots/", dispatch_slots.OutletSlotsView.as_view(), name="outlet-slots"),
    path(
        "work-orders/<str:number>/slots/",
        dispatch_slots.WorkOrderSlotsView.as_view(),
        name="work-order-slots",
    ),
    path(
        "work-orders/<str:number>/book-slot/",
        dispatch_slots.WorkOrderBookSlotView.as_view(),
        name="work-order-book-slot",
    ),
    path("work-orders/<str:number>/sla/", sla.WorkOrderSlaView.as_view(), name="work-order-sla"),
    path("inbox/", notifications.InboxView.as_view(), name="inbox"),
    path("inbox/<int:pk>/read/", notifications.InboxReadView.as_view(), name="inbox-read"),
    path(
        "me/notification-preferences/",
        notifications.PreferenceView.as_view(),
        name="notification-preferences",
    ),
    path(
        "me/push-subscriptions/",
        notifications.PushSubscriptionsView.as_view(),
        name="push-subscriptions",
    ),
    path("", include(router.urls)),
]
