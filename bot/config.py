"""Settings read from the environment, in one place, with explicit defaults.

Every other module receives a `Settings` object; nothing else reads `os.environ`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from bot.core.directory import Phone
from bot.core.reply import CRISIS_LINES, Hotlines, LineNames

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
"""Every process logs in this shape; the process id tells the web workers apart (no number or text is logged)."""

DEFAULT_HOTLINE_NAME = "SMA Healthcare 24/7 line"
DEFAULT_HOTLINE_NUMBER = "+18005394228"
DEFAULT_HOTLINE_DISPLAY = "(800) 539-4228"
DEFAULT_SAMHSA_NAME = "SAMHSA National Helpline"
DEFAULT_SAMHSA_NUMBER = "+18006624357"
DEFAULT_SAMHSA_DISPLAY = "1-800-662-HELP (4357)"
DEFAULT_HOTLINE_NAME_ES = "SMA Healthcare 24 horas"
DEFAULT_SAMHSA_NAME_ES = "SAMHSA (en español)"
LANGUAGES = ("en", "es")
"""The languages the bot's fixed wording exists in (`bot.core.render.WORDS`)."""
DEFAULT_REDIS_TIMEOUT_SECONDS = 0.5
"""How long a Redis client waits to connect and for each reply (tools without settings use it too)."""


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the app must not start."""


@dataclass(frozen=True)
class Settings:
    """Everything the app and its workers need to know about their surroundings."""

    instance_dir: Path
    database_url: str
    redis_url: str | None
    flows_dir: Path
    data_dir: Path
    twilio_auth_token: str | None
    twilio_account_sid: str | None
    twilio_from_number: str | None
    twilio_messaging_service_sid: str | None
    twilio_api_base_url: str | None
    public_base_url: str | None
    trust_proxy: int
    dev_mode: bool
    hash_secret: str
    program_name: str
    hotline_name: str
    hotline_number: str
    hotline_display: str
    samhsa_name: str
    samhsa_number: str
    samhsa_display: str
    session_ttl_seconds: int
    returning_ttl_seconds: int
    sms_segment_budget: int
    rate_limit_count: int
    rate_limit_window_seconds: int
    replay_ttl_seconds: int
    opt_out_handled_by: str
    opt_out_sync_seconds: int
    retention_days: int
    default_language: str
    log_level: str
    home_states: tuple[str, ...]
    host: str
    port: int
    web_concurrency: int
    web_threads: int
    database_connect_timeout_seconds: float
    """Request-path bounds: each default is written once, in `load_settings`."""
    database_timeout_seconds: float
    redis_timeout_seconds: float
    max_request_bytes: int
    max_body_chars: int
    directory_check_seconds: float = 5.0
    zip_radius_miles: float = 25.0
    allow_synthetic_data: bool = False
    voice_name: str = "Polly.Joanna"
    voice_language: str = "en-US"
    voice_name_es: str = "Polly.Lupe"
    voice_language_es: str = "es-US"
    hotline_name_es: str = DEFAULT_HOTLINE_NAME_ES
    samhsa_name_es: str = DEFAULT_SAMHSA_NAME_ES
    dial_timeout_seconds: int = 30
    twilio_http_timeout_seconds: float = 10.0
    text_retry_delays: tuple[float, ...] = (2.0, 10.0, 30.0)
    job_heartbeat_seconds: int = 10
    reload_check_seconds: float = 5.0
    reload_watch_files: bool = True
    data_stale_days: int = 365

    @property
    def can_send_texts(self) -> bool:
        """Whether the REST API credentials a job needs to send a text are configured."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def validate_signatures(self) -> bool:
        """Signatures are always checked when a token is configured."""
        return bool(self.twilio_auth_token)

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields changed (used by tests and the CLI)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def hotlines(settings: Settings) -> Hotlines:
    """The lines every reply carries, from settings, named in English and in Spanish."""
    spanish = LineNames(settings.hotline_name_es, settings.samhsa_name_es, CRISIS_LINES["es"])
    return Hotlines(
        program=settings.program_name,
        hotline_name=settings.hotline_name,
        hotline=Phone(settings.hotline_number, settings.hotline_display),
        samhsa_name=settings.samhsa_name,
        samhsa=Phone(settings.samhsa_number, settings.samhsa_display),
        names=(("es", spanish),),
    )


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def _delays(env: Mapping[str, str], name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        values = tuple(float(x) for x in raw.split(",") if x.strip())
    except ValueError as exc:
        raise ConfigError(f"{name} must be seconds separated by commas, like 2,10,30; got {raw!r}") from exc
    if any(v < 0 or v > 600 for v in values):
        raise ConfigError(f"{name}: each delay must be between 0 and 600 seconds, got {raw!r}")
    return values


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _instance_secret(instance_dir: Path) -> str:
    """A per-install secret kept in the instance folder, for development runs only."""
    path = instance_dir / "hash_secret"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def load_settings(env: Mapping[str, str] | None = None, *, require_secrets: bool = True) -> Settings:
    """Build settings from environment variables (defaults to `os.environ`).

    `require_secrets=False` is for offline admin tools (checks, transcripts, the simulator), which never
    see a Twilio request or store a phone number, so they run without the token and the hash secret.
    """
    env = dict(os.environ if env is None else env)
    instance_dir = Path(env.get("INSTANCE_DIR") or PROJECT_ROOT / "instance").resolve()
    dev_mode = _bool(env.get("HELPLINE_DEV"))
    auth_token = env.get("TWILIO_AUTH_TOKEN") or None
    if not auth_token and not dev_mode and require_secrets:
        raise ConfigError(
            "TWILIO_AUTH_TOKEN is not set, so Twilio signatures could not be checked. "
            "Set it, or set HELPLINE_DEV=1 to run WITHOUT signature validation on a development machine."
        )
    hash_secret = env.get("HASH_SECRET") or ""
    if not hash_secret and require_secrets:
        if not dev_mode:
            raise ConfigError("HASH_SECRET is not set: phone numbers cannot be stored as keyed hashes without it.")
        hash_secret = _instance_secret(instance_dir)
    budget = _int(env, "SMS_SEGMENT_BUDGET", 4)
    retention_days = max(1, _int(env, "RETENTION_DAYS", 30))
    if not 1 <= budget <= 10:
        raise ConfigError(f"SMS_SEGMENT_BUDGET must be between 1 and 10, got {budget}")
    return Settings(
        instance_dir=instance_dir,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'helpline.sqlite3'}",
        redis_url=env.get("REDIS_URL") or None,
        flows_dir=Path(env.get("FLOWS_DIR") or PROJECT_ROOT / "flows").resolve(),
        data_dir=Path(env.get("DATA_DIR") or PROJECT_ROOT / "data").resolve(),
        twilio_auth_token=auth_token,
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_from_number=env.get("TWILIO_FROM_NUMBER") or None,
        twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        twilio_api_base_url=env.get("TWILIO_API_BASE_URL") or None,
        public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        trust_proxy=_int(env, "TRUST_PROXY", 0),
        dev_mode=dev_mode,
        hash_secret=hash_secret,
        program_name=env.get("PROGRAM_NAME") or "SMA Healthcare Peer Support Line",
        hotline_name=env.get("HOTLINE_NAME") or DEFAULT_HOTLINE_NAME,
        hotline_number=env.get("HOTLINE_NUMBER") or DEFAULT_HOTLINE_NUMBER,
        hotline_display=env.get("HOTLINE_DISPLAY")
        or (env["HOTLINE_NUMBER"] if env.get("HOTLINE_NUMBER") else DEFAULT_HOTLINE_DISPLAY),
        samhsa_name=env.get("SAMHSA_NAME") or DEFAULT_SAMHSA_NAME,
        samhsa_number=env.get("SAMHSA_NUMBER") or DEFAULT_SAMHSA_NUMBER,
        samhsa_display=env.get("SAMHSA_DISPLAY") or DEFAULT_SAMHSA_DISPLAY,
        session_ttl_seconds=_int(env, "SESSION_TTL_SECONDS", 60 * 60),
        returning_ttl_seconds=min(_int(env, "RETURNING_TTL_SECONDS", 30 * 24 * 60 * 60), retention_days * 86400),
        sms_segment_budget=budget,
        rate_limit_count=_int(env, "RATE_LIMIT_COUNT", 15),
        rate_limit_window_seconds=max(1, _int(env, "RATE_LIMIT_WINDOW_SECONDS", 60)),
        replay_ttl_seconds=_int(env, "REPLAY_TTL_SECONDS", 3600),
        opt_out_handled_by=_choice(env, "OPT_OUT_HANDLED_BY", ("app", "twilio"), "app"),
        opt_out_sync_seconds=max(10, _int(env, "OPT_OUT_SYNC_SECONDS", 900)),
        retention_days=retention_days,
        default_language=_choice(env, "DEFAULT_LANGUAGE", LANGUAGES, "en"),
        log_level=env.get("LOG_LEVEL") or "INFO",
        home_states=tuple(s.strip().upper() for s in (env.get("HOME_STATES") or "FL").split(",") if s.strip()),
        host=env.get("HOST") or "127.0.0.1",
        port=_int(env, "PORT", 5000),
        web_concurrency=_int(env, "WEB_CONCURRENCY", 2),
        web_threads=int(_number(env, "WEB_THREADS", 64, 1, 1024)),
        directory_check_seconds=_number(env, "DIRECTORY_CHECK_SECONDS", 5.0, 0.0, 3600.0),
        zip_radius_miles=_number(env, "ZIP_RADIUS_MILES", 25.0, 0.0, 500.0),
        allow_synthetic_data=_bool(env.get("ALLOW_SYNTHETIC_DATA")),
        voice_name=env.get("VOICE_NAME") or "Polly.Joanna",
        voice_language=env.get("VOICE_LANGUAGE") or "en-US",
        voice_name_es=env.get("VOICE_NAME_ES") or "Polly.Lupe",
        voice_language_es=env.get("VOICE_LANGUAGE_ES") or "es-US",
        hotline_name_es=env.get("HOTLINE_NAME_ES") or DEFAULT_HOTLINE_NAME_ES,
        samhsa_name_es=env.get("SAMHSA_NAME_ES") or DEFAULT_SAMHSA_NAME_ES,
        dial_timeout_seconds=int(_number(env, "DIAL_TIMEOUT_SECONDS", 30, 5, 600)),
        twilio_http_timeout_seconds=_number(env, "TWILIO_HTTP_TIMEOUT_SECONDS", 10.0, 1, 120),
        text_retry_delays=_delays(env, "TEXT_RETRY_DELAYS", (2.0, 10.0, 30.0)),
        job_heartbeat_seconds=int(_number(env, "JOB_HEARTBEAT_SECONDS", 10, 1, 300)),
        reload_check_seconds=max(0.0, _float(env, "RELOAD_CHECK_SECONDS", 5.0)),
        reload_watch_files=_bool(env.get("RELOAD_WATCH_FILES"), default=True),
        data_stale_days=_int(env, "DATA_STALE_DAYS", 365),
        database_connect_timeout_seconds=_number(env, "DATABASE_CONNECT_TIMEOUT_SECONDS", 2.0, 1, 30),
        database_timeout_seconds=_number(env, "DATABASE_TIMEOUT_SECONDS", 2.0, 0.1, 30),
        redis_timeout_seconds=_number(env, "REDIS_TIMEOUT_SECONDS", DEFAULT_REDIS_TIMEOUT_SECONDS, 0.05, 10),
        max_request_bytes=int(_number(env, "MAX_REQUEST_BYTES", 65536, 1024, 10_000_000)),
        max_body_chars=int(_number(env, "MAX_BODY_CHARS", 1600, 160, 100_000)),
    )
