"""Schemathesis against the OpenAPI schema: no 5xx for generated or malformed input.

Uses schemathesis' Python API over the ASGI app (no server, no network), with a bounded number
of examples per operation and generation mode, as an admin and anonymously.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from api.service.app import create_app
from tests.api.service.conftest import login, make_settings
from tests.api.service.seed import Seeded

EXAMPLES = 10


@pytest.fixture
def api(store: Seeded) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    """The app and the headers of an admin session (cookie and CSRF token)."""
    app = create_app(make_settings(store.url))
    with TestClient(app) as client:
        csrf = login(client, "admin")
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    yield app, {"Cookie": cookie, "X-CSRF-Token": csrf}
    app.state.engine.dispose()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(api: tuple[FastAPI, dict[str, str]], mode: GenerationMode) -> None:
    app, headers = api
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 8
    calls = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case[Any]) -> None:
            for extra in (headers, {}):  # as an admin, then anonymously
                response = case.call(headers={**dict(case.headers or {}), **extra})
                case.validate_response(response, checks=[not_a_server_error])
                calls.append(response.status_code)
                if not extra:
                    assert response.status_code == 401, (case.method, case.formatted_path)

        try:
            check()
        except Unsatisfiable:
            # An operation without parameters or body has no malformed variant.
            assert mode is GenerationMode.NEGATIVE, operation.label
    assert len(calls) >= EXAMPLES
    if mode is GenerationMode.POSITIVE:
        assert any(200 <= code < 300 for code in calls)
    else:
        assert any(code == 422 for code in calls)
