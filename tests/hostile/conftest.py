"""Hostile-peer tests hold hundreds of sockets: let this process open enough."""

from __future__ import annotations

import pytest

from tests.hostile.served import raise_open_files


@pytest.fixture(scope="session", autouse=True)
def open_files_for_many_clients() -> None:
    raise_open_files(8192)
