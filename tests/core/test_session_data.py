"""A session survives the trip to storage and back whole: every field, spelled out in `to_dict`."""

from __future__ import annotations

from dataclasses import fields

from bot.core.session import Session


def test_every_field_goes_to_storage_and_comes_back() -> None:
    session = Session(
        flow="main", state="results", language="es", history=("welcome", "ask_place"),
        vars={"topic": "family", "county": "FL:volusia county", "zip": "32114"}, pending=("FL:lake county",),
        offset=3, turns=7,
    )
    data = session.to_dict()
    assert set(data) == {f.name for f in fields(Session)}
    assert Session.from_dict(data) == session
