"""The signed-in user's inbox and notification preferences. Only one's own messages: anyone
else's answers 404."""

from __future__ import annotations

from typing import Any, cast

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shouhou.accounts.models import User
from shouhou.notifications import messaging
from shouhou.notifications.models import Message, NotificationPreference

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
