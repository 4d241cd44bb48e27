"""`GET /healthz`: is this process up, and can it reach Redis and the database (for load balancers)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    parts = current_app.extensions["helpline_parts"]
    checks: dict[str, bool] = {}
    try:
        checks["redis"] = bool(parts.redis.ping())
    except Exception:  # noqa: BLE001
        checks["redis"] = False
    try:
        with (parts.request_db_engine or parts.db_engine).connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # noqa: BLE001
        checks["database"] = False
    status = 200 if all(checks.values()) else 503
    return jsonify(ok=status == 200, **checks), status
