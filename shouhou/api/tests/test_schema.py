"""The OpenAPI document, the self-hosted API docs and the health check."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from django.db import OperationalError, connections
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from shouhou.api.urls import router

pytestmark = pytest.mark.django_db

# Paths outside the router, and the extra actions, that must stay in the document.
EXTRA_PATHS = [
    "/api/v1/auth/sms-codes/",
    "/api/v1/auth/token/",
    "/api/v1/fault-types/{id}/estimate/",
]
ISSUE_ONE_ROUTES = [
    "organizations",
    "outlets",
    "categories",
    "brands",
    "product-models",
    "service-types",
    "skills",
    "fault-types",
    "price-items",
]


@pytest.fixture
def schema_yaml(client) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    return yaml.safe_load(response.content)


def test_schema_is_served_as_openapi_3_yaml(schema_yaml):
    assert schema_yaml["openapi"].startswith("3.")
    assert schema_yaml["info"]["title"] == "Shouhou API"
    assert schema_yaml["info"]["version"] == "1.0.0"


def test_schema_is_also_served_as_json(client, schema_yaml):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert json.loads(response.content) == schema_yaml


def test_every_router_route_is_in_the_schema(schema_yaml):
    # given every prefix registered on the API router (later issues add more)
    prefixes = [prefix for prefix, _viewset, _basename in router.registry]
    assert set(ISSUE_ONE_ROUTES) <= set(prefixes)
    paths = set(schema_yaml["paths"])
    # then each has its list path and a detail path
    assert [p for p in prefixes if f"/api/v1/{p}/" not in paths] == []
    assert [
        p for p in prefixes if not any(path.startswith(f"/api/v1/{p}/{{") for path in paths)
    ] == []
    assert [path for path in EXTRA_PATHS if path not in paths] == []


@pytest.mark.parametrize("prefix", ISSUE_ONE_ROUTES)
def test_catalog_and_organisation_routes_are_read_only_in_the_schema(schema_yaml, prefix):
    paths = schema_yaml["paths"]
    assert set(paths[f"/api/v1/{prefix}/"]) == {"get"}
    assert set(paths[f"/api/v1/{prefix}/{{id}}/"]) == {"get"}


def test_estimate_documents_its_query_parameters_and_answer(schema_yaml):
    operation = schema_yaml["paths"]["/api/v1/fault-types/{id}/estimate/"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"id", "on", "product_model"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Estimate"
    }


def test_token_and_sms_code_endpoints_are_documented_for_anonymous_use(schema_yaml):
    sms = schema_yaml["paths"]["/api/v1/auth/sms-codes/"]["post"]
    token = schema_yaml["paths"]["/api/v1/auth/token/"]["post"]
    assert set(sms["responses"]) == {"202"}
    assert set(token["responses"]) == {"200"}
    # no authentication classes: the document says so with an empty requirement
    assert sms["security"] == [{}]
    assert token["security"] == [{}]


def test_generated_schema_passes_openapi_validation_without_warnings():
    # when the schema is generated the way the schema view does
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    # then it validates against the OpenAPI 3 JSON schema, and generation raised nothing
    validate_schema(schema)
    assert dict(GENERATOR_STATS._warn_cache) == {}
    assert dict(GENERATOR_STATS._error_cache) == {}


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_api_docs_use_only_local_assets(client, url):
    # when the interactive docs are opened
    response = client.get(url)
    # then they load, and every script, style and icon comes from this server
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"https?://", html) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets != []
    assert [asset for asset in assets if not asset.startswith("/static/")] == []


def test_swagger_ui_assets_are_served(client):
    html = client.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(assets) == 4
    assert {asset: client.get(asset).status_code for asset in assets} == dict.fromkeys(assets, 200)


def test_swagger_ui_reads_the_local_schema(client):
    html = client.get("/api/docs/").content.decode()
    assert '"/api/schema/"' in html


def test_redoc_reads_the_local_schema_with_its_local_script(client):
    html = client.get("/api/redoc/").content.decode()
    assert '<redoc spec-url="/api/schema/"></redoc>' in html
    assert (
        '<script src="/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js">' in html
    )


# --- health check --------------------------------------------------------------------------------


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_fails(client, monkeypatch):
    # given a database that refuses every query
    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    # when the load balancer asks
    response = client.get("/healthz")
    # then the answer is 503 with the reason
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "could not connect to server"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_get_only(client):
    assert client.post("/healthz").status_code == 405
