"""The work-order API: create (idempotent), list, retrieve, and one POST action per verb."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from shouhou.accounts.models import Organization, Outlet, User
from shouhou.api.authentication import organization_cached
from shouhou.catalog.models import Brand, FaultType, ProductCategory, ProductModel, ServiceType
from shouhou.catalog.selectors import catalog_row
from shouhou.core.inserts import insert
from shouhou.core.tenancy import organization_ids_for, sees_everything
from shouhou.customers.models import Address, Asset
from shouhou.dispatch.models import Technician
from shouhou.dispatch.selectors import explanation_for, technician_suggestions
from shouhou.feedback.api import RatingSerializer
from shouhou.feedback.services import rating_submit
from shouhou.workorders import services
from shouhou.workorders.access import (
    CUSTOMER,
    OPERATOR_ROLES,
    STAFF,
    TECHNICIAN,
    relations,
    workorder_visible_to,
)
from shouhou.workorders.api import serializers as io
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor


class WorkOrderFilter(filters.FilterSet):
    submitted_after = filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="lt")

    class Meta:
        model = WorkOrder
        fields = [
            "status",
            "priority",
            "channel",
            "fulfilment_mode",
            "organization",
            "outlet",
            "technician",
            "fault_type",
            "service_type",
        ]


def _pick(model: Any, pk: int | None, organization_ids: set[int]) -> Any:
    """A catalog/outlet row by id inside the allowed organisations (else a 400, not a leak)."""
    if pk is None:
        return None
    if model._meta.app_label == "catalog":
        row = catalog_row(model, pk=pk, organization_ids=organization_ids)
    else:
        row = model.objects.filter(pk=pk, organization_id__in=organization_ids).first()
    if row is None:
        raise serializers.ValidationError(
            {model._meta.model_name: [_("Not found in this organisation.")]}
        )
    return row


class WorkOrderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[WorkOrder]
):
    """Work orders visible to the caller: staff see their organisations' (owned or served),
    technicians their assigned jobs, customers their own. Others' orders answer 404."""

    serializer_class = io.WorkOrderSerializer
    lookup_field = "number"
    filterset_class = WorkOrderFilter
    search_fields = ["number", "description", "customer__name", "device_identifier"]
    ordering_fields = ["submitted_at", "priority", "status"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[WorkOrder]:
        return (
            workorder_visible_to(self.request.user)
            .select_related("customer", "technician__user", "organization")
            .prefetch_related("visits")
            .order_by("-submitted_at", "-pk")
        )

    # --- create ------------------------------------------------------------------------------

    @extend_schema(
        request=io.WorkOrderCreateInput,
        responses={201: io.WorkOrderCreatedSerializer, 200: io.WorkOrderCreatedSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Send the same key when retrying: the order is created once and the "
                "retry answers 200 with it.",
            )
        ],
        examples=[
            OpenApiExample(
                "An agent takes a phone call",
                request_only=True,
                value={
                    "customer": {"name": "王女士", "phone": "13800138000"},
                    "address": {
                        "city": "杭州市",
                        "district": "西湖区",
                        "address": "文三路 90 号",
                        "latitude": "30.2800",
                        "longitude": "120.1300",
                    },
                    "service_type": 1,
                    "fault_type": 2,
                    "description": "空调不制冷,外机不转",
                    "fulfilment_mode": "on_site",
                    "priority": "high",
                    "channel": "phone",
                },
            )
        ],
    )
    def create(self, request: Request) -> Response:
        data = io.WorkOrderCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user: User = request.user  # type: ignore[assignment]
        staff_ids = (
            set(Organization.objects.values_list("pk", flat=True))
            if sees_everything(user)
            else organization_ids_for(user, roles=OPERATOR_ROLES)
        )
        if not staff_ids:
            raise PermissionDenied(_("Only staff can create work orders through the API."))
        organization_id = values.get("organization") or (
            min(staff_ids) if len(staff_ids) == 1 else None
        )
        if organization_id is None:
            raise serializers.ValidationError({"organization": [_("Choose the organisation.")]})
        if organization_id not in staff_ids:
            raise Http404
        organization = organization_cached(organization_id)
        if "customer" not in values:
            raise serializers.ValidationError(
                {"customer": [_("Give the customer's name and mobile number.")]}
            )
        key = request.headers.get("Idempotency-Key", "").strip()[:64] or None
        try:
            result = self._create(values, organization, user, key)
        except IntegrityError:
            # A repeated key: the whole attempt (customer, address, order) is rolled back, and
            # the order made first answers. Any other integrity error is a bug: raised again.
            existing = (
                services.workorder_for_idempotency_key(organization=organization, key=key)
                if key
                else None
            )
            if existing is None:
                raise
            result = services.IntakeResult(existing, created=False)
        body = io.WorkOrderCreatedSerializer.represent(result.work_order, request)
        return Response(
            body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )

    def _create(
        self,
        values: dict[str, Any],
        organization: Organization,
        user: User,
        key: str | None,
    ) -> services.IntakeResult:
        """The writes of a create, in one transaction (``create`` answers a repeated key)."""
        own = {organization.pk}
        with transaction.atomic():
            customer = services.customer_get_or_create(
                organization=organization,
                phone=values["customer"]["phone"],
                name=values["customer"]["name"],
            )
            address = None
            if "address" in values:
                address = insert(Address(customer=customer, **values["address"]))
            asset = None
            if values.get("asset"):
                asset = Asset.objects.filter(pk=values["asset"], customer=customer).first()
                if asset is None:
                    raise serializers.ValidationError({"asset": [_("Not this customer's.")]})
            # An outlet of the organisation's network; any other (another organisation's, or
            # none) is the same 400, so the answer does not tell whether the id exists.
            outlet = None
            if values.get("outlet"):
                outlet = _pick(
                    Outlet, values["outlet"], services.serving_organization_ids(organization)
                )
            result = services.workorder_create(
                organization=organization,
                customer=customer,
                service_type=_pick(ServiceType, values["service_type"], own),
                fault_type=_pick(FaultType, values.get("fault_type"), own),
                category=_pick(ProductCategory, values.get("category"), own),
                brand=_pick(Brand, values.get("brand"), own),
                product_model=_pick(ProductModel, values.get("product_model"), own),
                device_identifier=values.get("device_identifier", ""),
                description=values["description"],
                channel=values["channel"],
                fulfilment_mode=values["fulfilment_mode"],
                priority=values["priority"],
                address=address,
                asset=asset,
                outlet=outlet,
                preferred_start=values.get("preferred_start"),
                preferred_end=values.get("preferred_end"),
                actor=Actor(user=user, role="agent"),
                idempotency_key=key,
                retry_savepoint=False,
            )
        return result

    # --- helpers -----------------------------------------------------------------------------

    def _order_for(self, request: Request, number: str, *allowed: str) -> tuple[WorkOrder, Actor]:
        order = get_object_or_404(
            workorder_visible_to(request.user).select_related(
                "technician", "customer", "organization"
            ),
            number=number,
        )
        mine = relations(request.user, order)
        for role in allowed:
            if role in mine:
                return order, Actor(user=request.user, role=_ROLE_LABEL[role])  # type: ignore[arg-type]
        raise PermissionDenied(_("You cannot do this on this work order."))

    def _respond(self, request: Request, order: WorkOrder) -> Response:
        fresh = self.get_queryset().get(pk=order.pk)
        return Response(io.WorkOrderSerializer(fresh, context={"request": request}).data)

    def _run(
        self,
        request: Request,
        number: str,
        allowed: tuple[str, ...],
        input_class: type[serializers.Serializer[Any]] | None,
        call: Callable[[WorkOrder, Actor, dict[str, Any]], Any],
    ) -> Response:
        order, actor = self._order_for(request, number, *allowed)
        values: dict[str, Any] = {}
        if input_class is not None:
            parsed = input_class(data=request.data)
            parsed.is_valid(raise_exception=True)
            values = dict(parsed.validated_data)
        call(order, actor, values)
        return self._respond(request, order)

    def _technician(self, order: WorkOrder) -> Technician:
        assert order.technician is not None
        return order.technician

    # --- staff -------------------------------------------------------------------------------

    @extend_schema(request=io.TriageInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, number: str) -> Response:
        """Accept a submitted order (待受理 → 已受理), optionally triaging it."""

        def call(order: WorkOrder, actor: Actor, values: dict[str, Any]) -> Any:
            own = {order.organization_id}
            return services.workorder_accept(
                work_order=order,
                actor=actor,
                priority=values.get("priority"),
                fault_type=_pick(FaultType, values.get("fault_type"), own),
            )

        return self._run(request, number, (STAFF,), io.TriageInput, call)

    @extend_schema(request=io.TriageInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def triage(self, request: Request, number: str) -> Response:
        """Set the fault type and priority."""

        def call(order: WorkOrder, actor: Actor, values: dict[str, Any]) -> Any:
            return services.workorder_triage(
                work_order=order,
                actor=actor,
                priority=values.get("priority"),
                fault_type=_pick(FaultType, values.get("fault_type"), {order.organization_id}),
            )

        return self._run(request, number, (STAFF,), io.TriageInput, call)

    @extend_schema(request=io.AssignOutletInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="assign-outlet")
    def assign_outlet(self, request: Request, number: str) -> Response:
        def call(order: WorkOrder, actor: Actor, values: dict[str, Any]) -> Any:
            outlet = _pick(
                Outlet, values["outlet"], services.serving_organization_ids(order.organization)
            )
            return services.workorder_assign_outlet(work_order=order, outlet=outlet, actor=actor)

        return self._run(request, number, (STAFF,), io.AssignOutletInput, call)

    @extend_schema(request=io.AssignTechnicianInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="assign-technician")
    def assign_technician(self, request: Request, number: str) -> Response:
        def call(order: WorkOrder, actor: Actor, values: dict[str, Any]) -> Any:
            technician = _pick(
                Technician,
                values["technician"],
                services.serving_organization_ids(order.organization),
            )
            return services.workorder_assign_technician(
                work_order=order,
                technician=technician,
                actor=actor,
                explanation=explanation_for(work_order=order, technician_id=technician.pk),
            )

        return self._run(request, number, (STAFF,), io.AssignTechnicianInput, call)

    @extend_schema(request=None, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="publish-to-pool")
    def publish_to_pool(self, request: Request, number: str) -> Response:
        """工单池: put an accepted on-site order in the job pool whatever the dispatch mode;
        qualified technicians nearby see it and the first to grab it gets it. 409 when the
        order is not waiting for dispatch or already has an open offer or pool entry."""
        from shouhou.dispatch.offers import pool_publish

        return self._run(
            request,
            number,
            (STAFF,),
            None,
            lambda o, a, v: pool_publish(work_order=o, actor=a),
        )

    @extend_schema(request=io.ReasonInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, number: str) -> Response:
        return self._run(
            request,
            number,
            (STAFF, TECHNICIAN),
            io.ReasonInput,
            lambda o, a, v: services.workorder_hold(work_order=o, actor=a, reason=v["reason"]),
        )

    @extend_schema(request=None, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, number: str) -> Response:
        return self._run(
            request,
            number,
            (STAFF,),
            None,
            lambda o, a, v: services.workorder_resume(work_order=o, actor=a),
        )

    @extend_schema(request=io.ReasonInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str) -> Response:
        """Cancel with a reason (customers: only until the service starts)."""
        return self._run(
            request,
            number,
            (STAFF, CUSTOMER),
            io.ReasonInput,
            lambda o, a, v: services.workorder_cancel(work_order=o, actor=a, reason=v["reason"]),
        )

    @extend_schema(request=io.NoteInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, number: str) -> Response:
        """Add an internal note (never shown to the customer)."""
        return self._run(
            request,
            number,
            (STAFF, TECHNICIAN),
            io.NoteInput,
            lambda o, a, v: services.workorder_add_note(work_order=o, actor=a, text=v["text"]),
        )

    # --- technician / outlet -------------------------------------------------------------------

    @extend_schema(request=None, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="accept-assignment")
    def accept_assignment(self, request: Request, number: str) -> Response:
        return self._run(
            request,
            number,
            (TECHNICIAN,),
            None,
            lambda o, a, v: services.workorder_accept_assignment(
                work_order=o, technician=self._technician(o), actor=a
            ),
        )

    @extend_schema(request=io.ReasonInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="decline-assignment")
    def decline_assignment(self, request: Request, number: str) -> Response:
        return self._run(
            request,
            number,
            (TECHNICIAN,),
            io.ReasonInput,
            lambda o, a, v: services.workorder_decline_assignment(
                work_order=o, technician=self._technician(o), actor=a, reason=v["reason"]
            ),
        )

    @extend_schema(request=io.WindowInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, number: str) -> Response:
        """Fix the appointment (工程师上门时间 / 到店时间)."""
        return self._run(
            request,
            number,
            (STAFF, TECHNICIAN),
            io.WindowInput,
            lambda o, a, v: services.workorder_schedule(
                work_order=o, actor=a, start=v["start"], end=v["end"]
            ),
        )

    @extend_schema(request=None, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="en-route")
    def en_route(self, request: Request, number: str) -> Response:
        return self._run(
            request,
            number,
            (TECHNICIAN,),
            None,
            lambda o, a, v: services.visit_set_en_route(
                work_order=o, technician=self._technician(o), actor=a
            ),
        )

    @extend_schema(request=io.LocationInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, number: str) -> Response:
        return self._run(
            request,
            number,
            (TECHNICIAN,),
            io.LocationInput,
            lambda o, a, v: services.visit_check_in(
                work_order=o,
                technician=self._technician(o),
                actor=a,
                latitude=v.get("latitude"),
                longitude=v.get("longitude"),
            ),
        )

    @extend_schema(request=None, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request: Request, number: str) -> Response:
        """Carry-in: the outlet received the device; the repair starts."""
        return self._run(
            request,
            number,
            (STAFF, TECHNICIAN),
            None,
            lambda o, a, v: services.workorder_receive_device(work_order=o, actor=a),
        )

    @extend_schema(request=io.ReportInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def report(self, request: Request, number: str) -> Response:
        """Record the diagnosis and the work done."""
        return self._run(
            request,
            number,
            (STAFF, TECHNICIAN),
            io.ReportInput,
            lambda o, a, v: services.workorder_report(
                work_order=o,
                actor=a,
                diagnosis=v.get("diagnosis", ""),
                work_done=v.get("work_done", ""),
            ),
        )

    @extend_schema(request=io.SignInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, number: str) -> Response:
        """Store the customer's signature (a PNG data URL drawn on the technician's screen)."""
        return self._run(
            request,
            number,
            (TECHNICIAN, STAFF),
            io.SignInput,
            lambda o, a, v: services.workorder_sign(
                work_order=o, actor=a, signature=v["signature"]
            ),
        )

    @extend_schema(request=io.CompleteInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, number: str) -> Response:
        """End the technician's visit with an outcome (fixed completes the order)."""
        return self._run(
            request,
            number,
            (TECHNICIAN,),
            io.CompleteInput,
            lambda o, a, v: services.visit_finish(
                work_order=o,
                technician=self._technician(o),
                actor=a,
                outcome=v["outcome"],
                latitude=v.get("latitude"),
                longitude=v.get("longitude"),
                note=v.get("note", ""),
            ),
        )

    @extend_schema(request=io.ReportInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="ready-for-pickup")
    def ready_for_pickup(self, request: Request, number: str) -> Response:
        """Carry-in: repaired and ready to collect."""
        return self._run(
            request,
            number,
            (STAFF, TECHNICIAN),
            io.ReportInput,
            lambda o, a, v: services.workorder_ready_for_pickup(
                work_order=o, actor=a, note=v.get("work_done", "")
            ),
        )

    @extend_schema(request=None, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request: Request, number: str) -> Response:
        """Carry-in: the customer collected the device."""
        return self._run(
            request,
            number,
            (STAFF, TECHNICIAN),
            None,
            lambda o, a, v: services.workorder_hand_over(work_order=o, actor=a),
        )

    # --- customer ------------------------------------------------------------------------------

    @extend_schema(request=None, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, number: str) -> Response:
        """The customer confirms the service is done."""
        return self._run(
            request,
            number,
            (CUSTOMER,),
            None,
            lambda o, a, v: services.workorder_confirm_completion(work_order=o, actor=a),
        )

    @extend_schema(request=io.ReasonInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="reject-completion")
    def reject_completion(self, request: Request, number: str) -> Response:
        return self._run(
            request,
            number,
            (CUSTOMER,),
            io.ReasonInput,
            lambda o, a, v: services.workorder_reject_completion(
                work_order=o, actor=a, reason=v["reason"]
            ),
        )

    @extend_schema(request=None, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def urge(self, request: Request, number: str) -> Response:
        """催单: remind staff (at most once per 30 minutes)."""
        return self._run(
            request,
            number,
            (CUSTOMER,),
            None,
            lambda o, a, v: services.workorder_urge(work_order=o, actor=a),
        )

    @extend_schema(request=io.WindowInput, responses=io.WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, number: str) -> Response:
        return self._run(
            request,
            number,
            (CUSTOMER,),
            io.WindowInput,
            lambda o, a, v: services.workorder_reschedule(
                work_order=o, actor=a, start=v["start"], end=v["end"]
            ),
        )

    @extend_schema(request=io.RatingInput, responses={201: RatingSerializer})
    @action(detail=True, methods=["post"])
    def rate(self, request: Request, number: str) -> Response:
        """Rate the service on four dimensions (1–5 each) with an optional comment."""
        order, actor = self._order_for(request, number, CUSTOMER)
        parsed = io.RatingInput(data=request.data)
        parsed.is_valid(raise_exception=True)
        photos = request.FILES.getlist("photos") if hasattr(request, "FILES") else []
        rating = rating_submit(
            work_order=order, actor=actor, photos=photos, **parsed.validated_data
        )
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)

    # --- reads -------------------------------------------------------------------------------

    @extend_schema(responses=io.SuggestionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def suggestions(self, request: Request, number: str) -> Response:
        """Technicians ranked for this order (hard constraints: skills, shift, service area,
        capacity, on duty), each with the score breakdown that explains the place."""
        order, _actor = self._order_for(request, number, STAFF)
        ranking = technician_suggestions(work_order=order, limit=10)
        rows = [
            {
                "technician": c.technician_id,
                "name": c.name,
                "score": c.score,
                "breakdown": c.breakdown,
            }
            for c in ranking.candidates
        ]
        return Response(io.SuggestionSerializer(rows, many=True).data)

    @extend_schema(responses=io.EventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request: Request, number: str) -> Response:
        """The timeline. Customers do not see internal events."""
        order = get_object_or_404(workorder_visible_to(request.user), number=number)
        events = order.events.select_related("actor")
        if relations(request.user, order) <= {CUSTOMER}:
            events = events.filter(is_internal=False)
        return Response(io.EventSerializer(events, many=True).data)

    @extend_schema(methods=["GET"], responses=io.AttachmentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": io.AttachmentInput},
        responses={201: io.AttachmentSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def attachments(self, request: Request, number: str) -> Response:
        """Photos, videos and the signature. POST uploads one file (checked by content)."""
        if request.method == "GET":
            order = get_object_or_404(workorder_visible_to(request.user), number=number)
            return Response(
                io.AttachmentSerializer(
                    order.attachments.all(), many=True, context={"request": request}
                ).data
            )
        order, actor = self._order_for(request, number, STAFF, TECHNICIAN, CUSTOMER)
        parsed = io.AttachmentInput(data=request.data)
        parsed.is_valid(raise_exception=True)
        attachment = services.attachment_add(
            work_order=order,
            actor=actor,
            kind=parsed.validated_data["kind"],
            upload=parsed.validated_data["file"],
        )
        return Response(
            io.AttachmentSerializer(attachment, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


_ROLE_LABEL = {STAFF: "agent", TECHNICIAN: "technician", CUSTOMER: "customer"}
