"""The Flask app: `create_app` wires settings, storage and the helpline, and registers the webhooks."""

from __future__ import annotations

import logging

import redis
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.config import LOG_FORMAT, Settings, hotlines, load_settings
from bot.core.engine import fallback_reply
from bot.core.places import Gazetteer
from bot.web.limits import BodyLimit
from bot.wiring import Parts, build

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, redis_client: redis.Redis | None = None, places: Gazetteer | None = None
) -> Flask:
    """Build the app; `settings` default to the environment, `redis_client` to one for `REDIS_URL`, `places` to
    the gazetteer cached in `INSTANCE_DIR`."""
    settings = settings or load_settings()
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
    if not settings.validate_signatures:
        log.warning("!!! HELPLINE_DEV is set and TWILIO_AUTH_TOKEN is not: Twilio signatures are NOT checked !!!")
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config["HELPLINE_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes  # a body without a declared length
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_request_bytes
    if settings.trust_proxy:
        hops = settings.trust_proxy
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    # Outermost, so an oversized body is refused before anything else (proxy headers included) is read.
    app.wsgi_app = BodyLimit(app.wsgi_app, settings.max_request_bytes)  # type: ignore[method-assign]
    parts = build(settings, redis_client, places)
    app.extensions["helpline_parts"] = parts
    app.extensions["helpline"] = parts.helpline
    register_blueprints(app)
    register_error_handlers(app, parts)
    register_reloader(app, parts)
    return app


def register_reloader(app: Flask, parts: Parts) -> None:
    """Each request first lets the reloader look for changed flow and data files (cheaply, now and then)."""
    reloader = parts.reloader
    if reloader is None or parts.settings.reload_check_seconds <= 0:
        return

    @app.before_request
    def look_for_changes() -> None:
        try:
            reloader.poll()
        except Exception as exc:  # noqa: BLE001 - looking for a new version must never cost a reply
            parts.helpline.faults.report("reload poll", exc)


def register_blueprints(app: Flask) -> None:
    from bot.web import health, sms, voice

    app.register_blueprint(sms.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(health.bp)


def register_error_handlers(app: Flask, parts: Parts) -> None:
    """Any unexpected error on a webhook still answers 200 with the hotlines, never a 500.

    A call gets spoken TwiML (every line read out, then the 24/7 line); a status callback an empty 204.
    """
    from bot.web.twiml import sms_twiml
    from bot.web.voice import voice_fallback

    @app.errorhandler(Exception)
    def on_error(exc: Exception) -> Response | HTTPException | tuple[str, int]:
        if isinstance(exc, HTTPException):
            return exc
        parts.helpline.faults.report(f"request {request.path}", exc)
        if request.path.endswith("/status"):
            return "", 204
        if request.path.startswith("/voice"):
            return voice_fallback(parts)
        return sms_twiml(fallback_reply(hotlines(parts.settings)))
