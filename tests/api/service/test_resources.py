"""The review service holds one database engine: 500 overview views leave memory and open
file descriptors where they were."""

from __future__ import annotations

import gc
import os
import resource

from fastapi.testclient import TestClient

from tests.api.service.conftest import login

VIEWS = 500
WARM_UP = 20


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _resident_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def test_overview_views_keep_memory_and_fds_flat(client: TestClient) -> None:
    login(client, "admin")
    for path in ("/", "/api/branches"):
        for _ in range(WARM_UP):
            assert client.get(path).status_code == 200
    gc.collect()
    fds, memory = _open_fds(), _resident_bytes()
    for i in range(VIEWS):
        assert client.get("/" if i % 2 else "/api/branches").status_code == 200
    gc.collect()
    grown_fds, grown_memory = _open_fds() - fds, _resident_bytes() - memory
    assert grown_fds <= 1, f"{grown_fds} more open file descriptors after {VIEWS} views"
    assert grown_memory < 8_000_000, f"{grown_memory / 1e6:.1f} MB more resident memory"
