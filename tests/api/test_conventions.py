"""Conventions every router keeps (STYLE.md 6 and 8): no route reads source data without ``decide`` saying yes,
and every JSON error of NDX's REST API has the one documented shape."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

import policies.decide_memo
from connectors import router as data_router
from ndx.web import ErrorResponse
from policies.decide import Action, Actor, Decision, Resource, decide
from tests.policies.world import World, world_fixture  # noqa: F401  (fixture)

FIELDS = ["citizen_id", "full_name", "date_of_birth"]


def data_calls(w: World) -> dict[str, tuple[str, str, dict[str, Any] | None, str]]:
    """How to call each route of the data router with a grant that allows it: path -> (method, url, json, purpose)."""
    cid = w.citizens[0]["citizen_id"]
    return {
        "/api/v1/datasets/{name}/records": (
            "GET",
            "/api/v1/datasets/population-citizen/records?fields=full_name",
            None,
            "social-assistance",
        ),
        "/api/v1/datasets/{name}/verify": (
            "POST",
            "/api/v1/datasets/population-citizen/verify",
            {"citizen_id": cid, "full_name": w.citizens[0]["full_name"]},
            "identity-verification",
        ),
    }


@pytest.fixture
def granted(world: World) -> World:
    world.grant("hcm_dev", "population-citizen", FIELDS, "social-assistance")
    world.grant("hcm_dev", "population-citizen", FIELDS, "identity-verification")
    return world


def test_every_data_route_asks_decide_and_obeys_a_denial(granted: World, monkeypatch: pytest.MonkeyPatch) -> None:
    w = granted
    routes = {r.path for r in data_router.router.routes if isinstance(r, APIRoute)}
    calls = data_calls(w)
    assert routes == set(calls), f"a data route has no recipe in this test: {sorted(routes - set(calls))}"

    real = decide
    asked: list[str] = []

    def spy(actor: Actor, action: Action, resource: Resource) -> Decision:
        asked.append(action.kind)
        return real(actor, action, resource)

    def deny(actor: Actor, action: Action, resource: Resource) -> Decision:
        asked.append(action.kind)
        return Decision(False, "denied by the conventions test", 403)

    gateway = w.client.app.state.gateway  # type: ignore[attr-defined]
    for path, (method, url, body, purpose) in calls.items():
        monkeypatch.setattr(policies.decide_memo, "decide", spy)
        gateway.decisions.clear()  # remembered decisions would answer without asking
        asked.clear()
        ok = w.client.request(method, url, json=body, headers=w.h("hcm_dev", purpose))
        assert ok.status_code == 200, (path, ok.text)
        assert len(asked) == 1, path

        monkeypatch.setattr(policies.decide_memo, "decide", deny)
        gateway.decisions.clear()
        asked.clear()
        res = w.client.request(method, url, json=body, headers=w.h("hcm_dev", purpose))
        assert res.status_code == 403, (path, res.text)
        assert res.json()["error"]["message"] == "denied by the conventions test"
        assert "items" not in res.text and "match" not in res.json()
        assert asked, path


def api_operations(w: World) -> list[tuple[str, str]]:
    """(method, path) of every operation of NDX's REST API, from the app's OpenAPI document."""
    paths = w_schema(w)["paths"]
    return [(m.upper(), p) for p, ops in paths.items() if p.startswith("/api/v1/") for m in ops]


def fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def assert_error_shape(res: Any, where: str) -> None:
    assert res.headers["content-type"].startswith("application/json"), where
    body = res.json()
    assert set(body) == {"error"}, (where, body)
    assert set(body["error"]) == {"status", "code", "message", "details", "request_id"}, (where, body)
    parsed = ErrorResponse.model_validate(body)
    assert parsed.error.status == res.status_code, where
    assert parsed.error.message and parsed.error.code, where


def test_every_json_error_of_every_router_has_the_documented_shape(world: World) -> None:
    w = world
    seen: set[int] = set()
    operations = api_operations(w)
    assert len(operations) > 20
    for method, path in operations:
        attempts = [
            (fill(path, "1"), {}),  # anonymous
            (fill(path, "%00%27%20OR%201%3D1"), w.h("admin")),  # hostile path parameter
            (fill(path, "999999") + "?limit=0&cursor=%FF", w.h("admin", "x")),  # bad query
        ]
        for url, headers in attempts:
            res = w.client.request(method, url, headers=headers, content=b"{not json")
            if res.status_code >= 400:
                seen.add(res.status_code)
                assert_error_shape(res, f"{method} {url} -> {res.status_code}")
    for method, url in (("GET", "/api/v1/no-such-route"), ("DELETE", "/api/v1/me")):
        res = w.client.request(method, url)
        seen.add(res.status_code)
        assert_error_shape(res, f"{method} {url}")
    assert {401, 404, 405, 422} <= seen


def test_every_declared_error_status_uses_the_error_shape(world: World) -> None:
    schema: dict[str, Any] = w_schema(world)
    for path, ops in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, op in ops.items():
            for status, response in op.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
                    assert ref.endswith("/ErrorResponse"), (method, path, status, response)


def w_schema(w: World) -> dict[str, Any]:
    res = w.client.get("/openapi.json")
    assert res.status_code == 200
    data: dict[str, Any] = res.json()
    return data
