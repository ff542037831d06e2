from __future__ import annotations

import dataclasses
import inspect

import pytest

from core import events


def test_every_event_is_a_frozen_dataclass_with_source_and_time() -> None:
    classes = [c for _, c in inspect.getmembers(events, inspect.isclass)
               if issubclass(c, events.Event)]
    assert len(classes) >= 12
    for cls in classes:
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen, cls


def test_events_cannot_be_mutated_and_carry_their_fields() -> None:
    event = events.DataReceived(source="socket-1", data=b"\x00\xff", peer="127.0.0.1:9")
    assert event.data == b"\x00\xff" and event.peer == "127.0.0.1:9"
    assert event.at > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = b"x"  # type: ignore[misc]


def test_failed_names_the_field() -> None:
    event = events.Failed(source="s", message="Port must be 1–65535, got 70000.",
                          field_name="Port")
    assert event.field_name == "Port"


def test_state_changes_carry_a_state_member_never_a_loose_string() -> None:
    from core.states import ConnState

    event = events.StateChanged(source="s", state=ConnState.ESTABLISHED, detail="h:1")
    assert event.state is ConnState.ESTABLISHED and event.state == "Established"
    with pytest.raises(TypeError, match="ConnState"):
        events.StateChanged(source="s", state="connected")  # type: ignore[arg-type]
