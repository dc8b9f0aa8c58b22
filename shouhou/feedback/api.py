"""Serializers of ratings for the API."""

from __future__ import annotations

from rest_framework import serializers

from shouhou.feedback.models import Rating


class RatingSerializer(serializers.ModelSerializer[Rating]):
    work_order = serializers.CharField(source="work_order.number", read_only=True)

    class Meta:
        model = Rating
        fields = [
            "id",
            "work_order",
            "attitude",
            "professionalism",
            "responsiveness",
            "transparency",
            "average",
            "comment",
            "created_at",
        ]
        read_only_fields = fields
