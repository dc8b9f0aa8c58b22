"""Input serializers that bind their fields once per class (shouhou.api.inputs)."""

from __future__ import annotations

from django.utils import translation

from shouhou.workorders.api.serializers import WorkOrderCreateInput

VALID = {
    "customer": {"name": "王女士", "phone": "138 0013 8000"},
    "service_type": 3,
    "description": "不制冷",
    "fulfilment_mode": "on_site",
}


def test_shared_fields_keep_each_request_apart_and_speak_its_language():
    # given one serializer that failed in Chinese
    with translation.override("zh-hans"):
        wrong = WorkOrderCreateInput(data={"customer": {"name": "x", "phone": "12"}})
        assert not wrong.is_valid()
        assert wrong.errors["description"] == ["此项为必填项。"]
    # when the next requests use the same (shared) fields, one valid, one in English
    ok = WorkOrderCreateInput(data=VALID)
    with translation.override("en"):
        english = WorkOrderCreateInput(data={"service_type": 0})
        english_valid = english.is_valid()
        english_errors = {key: [str(e) for e in value] for key, value in english.errors.items()}
    # then the fields are shared, but data, errors and language are each request's own
    assert ok.fields is wrong.fields
    assert ok.is_valid(), ok.errors
    assert ok.validated_data["customer"] == {"name": "王女士", "phone": "+8613800138000"}
    assert ok.validated_data["priority"] == "normal"
    assert english_valid is False
    assert english_errors["description"] == ["This field is required."]
    assert english_errors["service_type"] == ["Ensure this value is greater than or equal to 1."]
    assert "customer" in wrong.errors and "customer" not in english_errors
