"""Fixtures shared by test modules (helpers they share are plain modules: plans.py,
serving.py, officejs.py, libreoffice.py)."""

from __future__ import annotations

import httpx
import pytest

from serving import MAX_BODY, MAX_CELLS, OFFICE, TOKENS, running


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`planvalidator serve` on a free loopback port, with per-agency tokens and a fresh store
    for each test module that asks for it."""
    home = tmp_path_factory.mktemp("addin")
    limits = f"limits:\n  max_body_bytes: {MAX_BODY}\n  max_cells: {MAX_CELLS}\n"
    with running(home, TOKENS, OFFICE, limits) as url, \
            httpx.Client(base_url=url, timeout=30) as client:
        client.store = home / "submissions"
        client.log = home / "server.log"
        yield client
