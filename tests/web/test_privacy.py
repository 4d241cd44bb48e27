"""Canary numbers and bodies go through the whole app; then logs, database and Redis are searched for them."""

from __future__ import annotations

import logging

from sqlalchemy import column, inspect, select, table

from tests.twilio_webhooks import Call, Phone

CANARY_NUMBER = "+13865550999"
CANARY_DIGITS = ["3865550999", "5550999", "386-555-0999"]
CANARY_BODY = "zebracanary7741"


def test_no_body_and_no_number_reaches_logs_database_or_redis(app, redis_client, caplog) -> None:
    phone = Phone(app.test_client(), CANARY_NUMBER)
    call = Call(app.test_client(), CANARY_NUMBER)
    with caplog.at_level(logging.DEBUG):
        call.start()
        call.say(f"{CANARY_BODY} volusia")
        call.say(CANARY_BODY)
        call.press("1")
        for body in [
            CANARY_BODY,
            f"i live in volusia {CANARY_BODY}",
            "1",
            f"{CANARY_BODY} 32114",
            "help",
            "STOP",
            CANARY_BODY,
            "START",
        ]:
            phone.post(body)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged, "the app should log something"
    needles = [CANARY_BODY, *CANARY_DIGITS]
    for needle in needles:
        assert needle not in logged

    engine = app.extensions["helpline_parts"].db_engine
    with engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            columns = [c["name"] for c in inspect(conn).get_columns(name)]
            for row in conn.execute(select(*[column(c) for c in columns]).select_from(table(name))):
                for value in row:
                    for needle in needles:
                        assert needle not in str(value), (name, value)

    for key in redis_client.scan_iter("*"):
        kind = redis_client.type(key).decode()
        values = [redis_client.get(key)] if kind == "string" else []
        for needle in needles:
            assert needle.encode() not in key
            for value in values:
                assert needle.encode() not in (value or b"")
