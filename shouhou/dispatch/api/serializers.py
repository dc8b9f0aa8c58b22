"""Shapes of the dispatch API: the batch's input and summary, and the board's data."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class OrganizationInput(serializers.Serializer[Any]):
    organization = serializers.IntegerField(
        required=False,
        help_text="The organisation to act for; may be left out when the caller is staff of "
        "exactly one.",
    )


class BatchAssignedSerializer(serializers.Serializer[Any]):
    number = serializers.CharField()
    technician_id = serializers.IntegerField()
    technician = serializers.CharField()
    score = serializers.FloatField(help_text="The ranking's score (lower is better).")
    place = serializers.IntegerField(help_text="The technician's place in the order's ranking.")


class BatchLeftSerializer(serializers.Serializer[Any]):
    number = serializers.CharField()
    reason = serializers.ChoiceField(
        choices=["no_eligible_technician", "capacity_taken", "changed", "refused"]
    )
    excluded = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Hard constraint → how many technicians it left out.",
    )
    detail = serializers.CharField(allow_blank=True)


class BatchResultSerializer(serializers.Serializer[Any]):
    assigned = BatchAssignedSerializer(many=True)
    unassigned = BatchLeftSerializer(many=True)
    technicians = serializers.IntegerField(help_text="Technicians in the snapshot.")
    planning_ms = serializers.FloatField(help_text="Time to read, rank and solve.")


class BoardOrderSerializer(serializers.Serializer[Any]):
    number = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.CharField()
    fulfilment_mode = serializers.CharField()
    fault_type = serializers.CharField(allow_null=True)
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    unassigned = serializers.BooleanField(help_text="Accepted and waiting for a technician.")
    risk = serializers.ChoiceField(
        choices=["", "soon", "late"],
        help_text="late: its window has started and nobody is on the way; soon: it starts "
        "within two hours and nobody is on the way.",
    )
    technician_id = serializers.IntegerField(allow_null=True)
    technician = serializers.CharField(allow_blank=True)


class BoardTechnicianSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="off_duty, available, en_route or on_site.")
    status_label = serializers.CharField()
    on_shift = serializers.BooleanField()
    load = serializers.IntegerField(help_text="Open jobs today.")
    capacity = serializers.IntegerField(help_text="Jobs per day.")
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()


class BoardSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    organization = serializers.IntegerField()
    orders = BoardOrderSerializer(many=True)
    technicians = BoardTechnicianSerializer(many=True)
