"""The worker tests' PostgreSQL app (the multi-worker cases need row locks), emptied first."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from o2o.extensions import db
from tests.conftest import build_app


@pytest.fixture
def pg_app(postgres_schema: Callable[[], None], postgres_url: str) -> Iterator[Flask]:
    """An app on the run's PostgreSQL database, its tables empty."""
    postgres_schema()
    app = build_app(postgres_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
