"""Rate limits per grant: requests per minute and rows per day; 429 with Retry-After; Redis shares counters."""

from __future__ import annotations

import uuid

import pytest

from connectors import gateway
from ndx.errors import RateLimited
from policies.ratelimit import RateLimiter
from policies.rules_model import RateRule, dataset_rules
from tests.policies.world import World, world_fixture  # noqa: F401  (fixture)

URL = "/api/v1/datasets/population-citizen/records"


def tight_rules(rpm: int, rows: int) -> dict:  # type: ignore[type-arg]
    rules = dict(dataset_rules())
    rules["population-citizen"] = rules["population-citizen"].model_copy(
        update={"rate": RateRule(requests_per_minute=rpm, rows_per_day=rows)}
    )
    return rules


def test_requests_per_minute_per_grant(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    w.grant("hcm_dev", "population-citizen", ["full_name"], "social-assistance")
    w.grant("thue_dev", "population-citizen", ["full_name"], "tax-administration")
    rules = tight_rules(3, 100_000)
    monkeypatch.setattr(gateway, "dataset_rules", lambda: rules)
    hdr = w.h("hcm_dev", "social-assistance")
    assert [w.client.get(f"{URL}?limit=1", headers=hdr).status_code for _ in range(3)] == [200, 200, 200]
    res = w.client.get(f"{URL}?limit=1", headers=hdr)
    assert res.status_code == 429
    assert 1 <= int(res.headers["retry-after"]) <= 60
    assert res.json()["error"]["code"] == "rate_limited" and "3 requests per minute" in res.json()["error"]["message"]
    # another agency's grant has its own allowance
    assert w.client.get(f"{URL}?limit=1", headers=w.h("thue_dev", "tax-administration")).status_code == 200
    audit = w.client.get("/api/v1/audit?kind=query", headers=w.h("hcm_dev")).json()["items"]
    assert audit[0]["status"] == 429


def test_rows_per_day_caps_then_refuses(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    w.grant("hcm_dev", "population-citizen", ["full_name"], "social-assistance")
    rules = tight_rules(600, 5)
    monkeypatch.setattr(gateway, "dataset_rules", lambda: rules)
    hdr = w.h("hcm_dev", "social-assistance")
    first = w.client.get(f"{URL}?limit=3", headers=hdr).json()
    assert len(first["items"]) == 3
    second = w.client.get(f"{URL}?limit=3&cursor={first['next_cursor']}", headers=hdr).json()
    assert len(second["items"]) == 2 and second["next_cursor"]  # capped at what is left today
    third = w.client.get(f"{URL}?limit=3", headers=hdr)
    assert third.status_code == 429 and "5 rows per day" in third.text
    assert int(third.headers["retry-after"]) > 60


def test_redis_counters_are_shared_between_workers() -> None:
    url = "redis://127.0.0.1:6379/15"
    try:
        a, b = RateLimiter(url), RateLimiter(url)
        a.storage.check()
        assert a.storage.check()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379")
    key = f"grant:{uuid.uuid4().hex}"
    rate = RateRule(requests_per_minute=2, rows_per_day=10)
    a.hit_request(key, rate)
    b.hit_request(key, rate)
    with pytest.raises(RateLimited):
        a.hit_request(key, rate)
    b.take_rows(key, rate, 7)
    assert a.rows_left(key, rate) == 3


def test_failed_sign_ins_lock_one_address_out_of_an_account_not_its_owner() -> None:
    """Ten failures from one address lock that address out of the account, not the owner at another; a
    hundred from many addresses lock the account; fifty from one address lock that address out of all."""
    limiter = RateLimiter()
    owner = "dev@thue.gov.vn"
    for _ in range(10):
        assert limiter.login_wait(owner, "203.0.113.9") == 0
        limiter.login_failed(owner, "203.0.113.9")
    assert 0 < limiter.login_wait(" DEV@thue.gov.vn ", "203.0.113.9") <= 900  # the same account, however typed
    assert limiter.login_wait(owner, "198.51.100.7") == 0  # the owner, elsewhere, still signs in

    for i in range(90):  # the rest of the hundred, spread over addresses of their own
        limiter.login_failed(owner, f"10.0.{i // 250}.{i % 250}")
    assert limiter.login_wait(owner, "198.51.100.7") > 0  # guessing from everywhere: the account waits
    assert limiter.login_wait("steward@thue.gov.vn", "198.51.100.7") == 0  # other accounts do not

    limiter.login_succeeded(owner, "198.51.100.8")  # (as after the lock expires) a success clears the account
    assert limiter.login_wait(owner, "198.51.100.7") == 0
    for i in range(50):
        limiter.login_failed(f"user{i}@x.vn", "192.0.2.1")
    assert limiter.login_wait("anyone@x.vn", "192.0.2.1") > 0  # one address trying many accounts
