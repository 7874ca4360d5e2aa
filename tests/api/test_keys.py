"""API key rotation and revocation (admin): new keys, old ones stopping, on every worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from o2o import clock
from o2o.api import auth
from o2o.extensions import db
from o2o.models import ApiKey
from tests.builders import ADMIN_KEY, Api, error_code
from tests.conftest import AppFactory

KINDS = ["clerks", "shoppers"]


def person(api: Api, kind: str) -> dict[str, Any]:
    return api.clerk() if kind == "clerks" else api.shopper()


def works(api: Api, key: str) -> bool:
    """Whether the key authenticates (any role may list campaigns)."""
    status = api.get("/campaigns", key).status_code
    assert status in (200, 401)
    return status == 200


def rotate(api: Api, kind: str, person_id: str, **headers: str) -> dict[str, Any]:
    response = api.post(f"/{kind}/{person_id}/keys", ADMIN_KEY, headers=headers)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def revoke(api: Api, kind: str, person_id: str) -> Any:
    return api.call("DELETE", f"/{kind}/{person_id}/keys", ADMIN_KEY)


@pytest.fixture
def real_time(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Move the real clock (key expiries) and the monotonic one (the auth cache) together."""
    offset = [0.0]
    real_now, monotonic = clock.real_now, auth.monotonic
    monkeypatch.setattr(clock, "real_now", lambda: real_now() + timedelta(seconds=offset[0]))
    monkeypatch.setattr(auth, "monotonic", lambda: monotonic() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


@pytest.mark.parametrize("kind", KINDS)
def test_a_rotated_key_replaces_the_old_one_at_once_by_default(api: Api, kind: str) -> None:
    someone = person(api, kind)
    assert works(api, someone["api_key"])

    issued = rotate(api, kind, someone["id"])

    assert issued["api_key"].startswith(f"o2o_{kind[:-1]}_")
    assert issued["key_id"].startswith("key_")
    assert issued["created_at"].endswith("Z")
    assert issued["previous_key_expires_at"] is not None
    assert works(api, issued["api_key"])
    assert not works(api, someone["api_key"])


@pytest.mark.parametrize("kind", KINDS)
def test_with_an_overlap_the_old_key_works_until_the_overlap_ends(
    app_factory: AppFactory, kind: str, real_time: Callable[[float], None]
) -> None:
    api = Api(app_factory(O2O_KEY_OVERLAP_SECONDS=60, O2O_AUTH_CACHE_SECONDS=600).test_client())
    someone = person(api, kind)
    assert works(api, someone["api_key"])

    issued = rotate(api, kind, someone["id"])
    ends = datetime.fromisoformat(issued["previous_key_expires_at"])
    started = datetime.fromisoformat(issued["created_at"])
    assert timedelta(seconds=59) < ends - started <= timedelta(seconds=61)
    real_time(59)
    assert works(api, someone["api_key"])
    assert works(api, issued["api_key"])
    real_time(2)  # the old key is refused although the cache's lifetime is ten minutes
    assert not works(api, someone["api_key"])
    assert works(api, issued["api_key"])


def test_a_second_rotation_does_not_extend_the_first_ones_overlap(
    app_factory: AppFactory, real_time: Callable[[float], None]
) -> None:
    api = Api(app_factory(O2O_KEY_OVERLAP_SECONDS=60).test_client())
    clerk = api.clerk()
    rotate(api, "clerks", clerk["id"])
    real_time(30)
    second = rotate(api, "clerks", clerk["id"])
    real_time(31)
    assert not works(api, clerk["api_key"])  # 61 s after the first rotation
    assert works(api, second["api_key"])


@pytest.mark.parametrize("kind", KINDS)
def test_a_revoked_key_is_refused_exactly_like_an_unknown_key(api: Api, kind: str) -> None:
    someone = person(api, kind)
    newer = rotate(api, kind, someone["id"])

    assert revoke(api, kind, someone["id"]).status_code == 204

    unknown = api.get("/campaigns", "o2o_clerk_never-issued")
    for key in (someone["api_key"], newer["api_key"]):
        refused = api.get("/campaigns", key)
        assert (refused.status_code, refused.get_json()) == (401, unknown.get_json())
    assert revoke(api, kind, someone["id"]).status_code == 204  # revoking again changes nothing


@pytest.mark.parametrize("kind", KINDS)
def test_a_new_key_after_revocation_works_and_says_no_key_was_replaced(api: Api, kind: str) -> None:
    someone = person(api, kind)
    revoke(api, kind, someone["id"])
    issued = rotate(api, kind, someone["id"])
    assert issued["previous_key_expires_at"] is None
    assert works(api, issued["api_key"])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_keys_of_an_unknown_clerk_or_shopper_are_a_404_envelope(
    api: Api, kind: str, method: str
) -> None:
    response = api.call(method, f"/{kind}/nobody/keys", ADMIN_KEY)
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert response.get_json()["error"]["message"] == f"No {kind[:-1]} has this id."


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_only_an_admin_rotates_or_revokes_keys(api: Api, method: str) -> None:
    clerk = api.clerk()
    for kind, key in (("clerks", clerk["api_key"]), ("shoppers", api.shopper()["api_key"])):
        response = api.call(method, f"/{kind}/{clerk['id']}/keys", key)
        assert response.status_code == 403
        assert error_code(response) == "forbidden"
    assert works(api, clerk["api_key"])


def test_a_rotation_replayed_with_its_idempotency_key_answers_the_same_key_once(
    api: Api, app: Flask
) -> None:
    clerk = api.clerk()
    first = rotate(api, "clerks", clerk["id"], **{"Idempotency-Key": "rotate-1"})
    again = api.post(
        f"/clerks/{clerk['id']}/keys", ADMIN_KEY, headers={"Idempotency-Key": "rotate-1"}
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first
    assert works(api, first["api_key"])
    with app.app_context():
        keys = db.session.scalar(
            select(func.count()).select_from(ApiKey).where(ApiKey.clerk_id == clerk["id"])
        )
    assert keys == 2  # the original and one rotation


def test_with_no_auth_cache_a_revocation_stops_the_key_on_every_worker_at_once(
    app_factory: AppFactory,
) -> None:
    one, other = (Api(app_factory(O2O_AUTH_CACHE_SECONDS=0).test_client()) for _ in range(2))
    shopper = one.shopper()
    assert works(other, shopper["api_key"])

    assert revoke(one, "shoppers", shopper["id"]).status_code == 204

    assert not works(other, shopper["api_key"])


def test_with_an_auth_cache_a_revoked_key_stops_on_every_worker_within_its_lifetime(
    app_factory: AppFactory, real_time: Callable[[float], None]
) -> None:
    one, other = (Api(app_factory(O2O_AUTH_CACHE_SECONDS=5).test_client()) for _ in range(2))
    clerk = one.clerk()
    assert works(one, clerk["api_key"])
    assert works(other, clerk["api_key"])

    assert revoke(one, "clerks", clerk["id"]).status_code == 204

    assert not works(one, clerk["api_key"])  # the worker that revoked forgets it at once
    assert works(other, clerk["api_key"])  # another remembers it, for the cache's lifetime
    real_time(5.01)
    assert not works(other, clerk["api_key"])


def test_the_key_endpoints_are_in_the_openapi_spec(api: Api) -> None:
    paths = api.get("/openapi.json").get_json()["paths"]
    for kind in KINDS:
        operations = paths[f"/api/v1/{kind}/{{{kind[:-1]}_id}}/keys"]
        assert set(operations) >= {"post", "delete"}
        assert "201" in operations["post"]["responses"]
        assert "204" in operations["delete"]["responses"]
