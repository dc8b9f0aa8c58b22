"""The signed-in user's inbox, notification preferences and browser push subscriptions. Only
one's own: anyone else's message or subscription answers 404."""

from __future__ import annotations

from typing import Any, cast

from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shouhou.accounts.models import User
from shouhou.notifications import messaging, push
from shouhou.notifications.models import Message, NotificationPreference, PushSubscription

INBOX_PAGE = 50


class InboxMessageSerializer(serializers.ModelSerializer[Message]):
    work_order = serializers.CharField(source="work_order.number", read_only=True)

    class Meta:
        model = Message
        fields = ["id", "work_order", "kind", "subject", "body", "sent_at", "read_at"]
        read_only_fields = fields


class InboxSerializer(serializers.Serializer[Any]):
    unread = serializers.IntegerField()
    results = InboxMessageSerializer(many=True)


class PreferenceSerializer(serializers.ModelSerializer[NotificationPreference]):
    class Meta:
        model = NotificationPreference
        fields = ["sms", "wechat", "email", "webpush", "quiet_hours", "quiet_start", "quiet_end"]


def _me(request: Request) -> User:
    """The signed-in user (IsAuthenticated guarantees one)."""
    return cast(User, request.user)


class InboxView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=InboxSerializer,
        summary="My inbox: the newest 50 messages and the unread count",
    )
    def get(self, request: Request) -> Response:
        inbox = messaging.inbox_for(user=_me(request))
        return Response(
            {
                "unread": messaging.inbox_unread_count(user=_me(request)),
                "results": InboxMessageSerializer(inbox[:INBOX_PAGE], many=True).data,
            }
        )


class InboxReadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=InboxMessageSerializer, summary="Mark a message read")
    def post(self, request: Request, pk: int) -> Response:
        try:
            message = messaging.message_mark_read(user=_me(request), message_id=pk)
        except Message.DoesNotExist as exc:
            raise Http404 from exc
        return Response(InboxMessageSerializer(message).data)


class PreferenceView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PreferenceSerializer, summary="My notification preferences")
    def get(self, request: Request) -> Response:
        pref = NotificationPreference.objects.filter(user=_me(request)).first()
        return Response(PreferenceSerializer(pref or NotificationPreference()).data)

    @extend_schema(
        request=PreferenceSerializer,
        responses=PreferenceSerializer,
        summary="Change my channels and quiet hours (Asia/Shanghai time)",
    )
    def put(self, request: Request) -> Response:
        pref = messaging.preference_for(user=_me(request))
        serializer = PreferenceSerializer(pref, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)


# --- browser push subscriptions -------------------------------------------------------------


class PushKeysSerializer(serializers.Serializer[Any]):
    p256dh = serializers.CharField(
        max_length=100, help_text="The browser's P-256 public key, base64url (65 bytes)."
    )
    auth = serializers.CharField(
        max_length=32, help_text="The browser's 16-byte auth secret, base64url."
    )


class PushSubscriptionInputSerializer(serializers.Serializer[Any]):
    """The JSON of the browser's ``PushSubscription.toJSON()`` (``expirationTime`` ignored)."""

    endpoint = serializers.CharField(
        max_length=push.ENDPOINT_MAX, help_text="The push service URL (https)."
    )
    keys = PushKeysSerializer()
    user_agent = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        help_text="Defaults to the request's User-Agent header.",
    )


class PushSubscriptionDeleteSerializer(serializers.Serializer[Any]):
    endpoint = serializers.CharField(max_length=push.ENDPOINT_MAX)


class PushSubscriptionSerializer(serializers.ModelSerializer[PushSubscription]):
    class Meta:
        model = PushSubscription
        fields = ["id", "endpoint", "user_agent", "created_at", "last_success_at"]
        read_only_fields = fields


class PushSubscriptionListSerializer(serializers.Serializer[Any]):
    enabled = serializers.BooleanField(help_text="False: the site has no VAPID keys.")
    public_key = serializers.CharField(
        help_text="The VAPID public key (applicationServerKey) to subscribe with."
    )
    results = PushSubscriptionSerializer(many=True)


_EXAMPLE_ENDPOINT = "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH..."
_EXAMPLE_KEY = (
    "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
)
_SUBSCRIPTION_EXAMPLE = {
    "endpoint": _EXAMPLE_ENDPOINT,
    "expirationTime": None,
    "keys": {"p256dh": _EXAMPLE_KEY, "auth": "tBHItJI5svbpez7KI4CCXg"},
}


class PushSubscriptionsView(APIView):
    """The signed-in user's browsers that receive Web Push."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=PushSubscriptionListSerializer,
        summary="My push subscriptions and the key to subscribe with",
        examples=[
            OpenApiExample(
                "Two browsers",
                value={
                    "enabled": True,
                    "public_key": _EXAMPLE_KEY,
                    "results": [
                        {
                            "id": 7,
                            "endpoint": "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH...",
                            "user_agent": "Mozilla/5.0 (Linux; Android 14) Chrome/131.0",
                            "created_at": "2026-11-20T09:30:00+08:00",
                            "last_success_at": "2026-11-23T10:02:11+08:00",
                        }
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        rows = push.push_subscriptions_for(user=_me(request))
        return Response(
            {
                "enabled": push.push_enabled(),
                "public_key": push.push_public_key(),
                "results": PushSubscriptionSerializer(rows, many=True).data,
            }
        )

    @extend_schema(
        request=PushSubscriptionInputSerializer,
        responses={
            201: PushSubscriptionSerializer,
            200: PushSubscriptionSerializer,
            400: OpenApiResponse(description="Invalid endpoint or keys (`detail`, `code`)."),
            409: OpenApiResponse(description="The site has no VAPID keys (push_not_configured)."),
        },
        summary="Receive push in this browser (201 new, 200 refreshed)",
        description=(
            "Send the browser's `PushSubscription.toJSON()`. The endpoint must be an https URL "
            "of a public push service; `p256dh` a P-256 public key and `auth` a 16-byte secret, "
            "both base64url. The same endpoint again updates the stored row (also when another "
            "user signed in on that browser: it moves to the caller)."
        ),
        examples=[
            OpenApiExample(
                "A browser subscription", value=_SUBSCRIPTION_EXAMPLE, request_only=True
            ),
            OpenApiExample(
                "Not https",
                value={
                    "detail": "The push endpoint must be a full https:// URL.",
                    "code": "push_subscription_invalid",
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = PushSubscriptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        row, created = push.push_subscription_save(
            user=_me(request),
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
            user_agent=data.get("user_agent") or request.META.get("HTTP_USER_AGENT", ""),
        )
        return Response(
            PushSubscriptionSerializer(row).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=PushSubscriptionDeleteSerializer,
        parameters=[
            OpenApiParameter(
                "endpoint",
                str,
                OpenApiParameter.QUERY,
                required=False,
                description="The endpoint to forget (or send it in the body).",
            )
        ],
        responses={204: None, 404: OpenApiResponse(description="Not one of your browsers.")},
        summary="Stop push in a browser",
        examples=[
            OpenApiExample(
                "By endpoint",
                value={"endpoint": _EXAMPLE_ENDPOINT},
                request_only=True,
            )
        ],
    )
    def delete(self, request: Request) -> Response:
        endpoint = request.query_params.get("endpoint")
        if isinstance(request.data, dict) and request.data.get("endpoint"):
            endpoint = request.data["endpoint"]
        serializer = PushSubscriptionDeleteSerializer(data={"endpoint": endpoint})
        serializer.is_valid(raise_exception=True)
        try:
            push.push_subscription_delete(
                user=_me(request), endpoint=serializer.validated_data["endpoint"]
            )
        except PushSubscription.DoesNotExist as exc:
            raise Http404 from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
