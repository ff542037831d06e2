"""Saved sites: JSON for the fields, the keyring (when one exists) for passwords."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend

from core.ftp.sites import Site, SiteStore, keyring_status


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring backend (a real backend class, just not the OS one)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.secrets.get((service, username))

    def set_password(self, service, username, password):
        self.secrets[(service, username)] = password

    def delete_password(self, service, username):
        self.secrets.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring():
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_sites_round_trip_and_password_goes_to_the_keyring(tmp_path, memory_keyring):
    store = SiteStore(tmp_path / "sites.json")
    site = Site("lab", "127.0.0.1", 2121, "lab", tls="explicit")
    assert store.save(site, "s3cret") is True
    assert "s3cret" not in (tmp_path / "sites.json").read_text()
    assert store.load() == [site]
    assert store.password(site) == "s3cret"
    assert keyring_status() == ""
    store.delete("lab")
    assert store.load() == [] and memory_keyring.secrets == {}


def test_without_a_keyring_the_password_is_not_saved_and_the_ui_is_told(tmp_path, no_keyring):
    store = SiteStore(tmp_path / "sites.json")
    site = Site("lab", "127.0.0.1", 2121, "lab")
    assert store.save(site, "s3cret") is False
    assert "s3cret" not in (tmp_path / "sites.json").read_text()
    assert store.password(site) == ""
    assert "not saved" in keyring_status()


def test_broken_file_is_a_clear_error(tmp_path):
    path = tmp_path / "sites.json"
    path.write_text("{not json")
    with pytest.raises(Exception, match="could not be read"):
        SiteStore(path).load()
