"""Building the running parts from settings: database, Redis, flow, places, the `Helpline` itself.

`create_app`, the CLI and workers all call these, so each process builds its own clients and nothing is
a module-level global: `build` loads the gazetteer once and hands it to what needs it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from rq import Queue
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings, hotlines
from bot.core.directory import Directory
from bot.core.engine import Context
from bot.core.flows import Flow
from bot.core.places import Gazetteer
from bot.core.safety import CrisisScreen
from bot.helpline import Helpline
from bot.jobs import text_queue
from bot.reloader import Reloader
from bot.storage.conversations import ConversationStore, RateLimit, Replay, SessionKeys
from bot.storage.db import Bounds, make_engine, make_session_factory
from bot.storage.gazetteer_cache import load_gazetteer
from bot.storage.listings import SqlDirectory
from bot.storage.live_directory import LiveDirectory
from bot.storage.opt_outs import OptOutStore
from bot.storage.redis_server import client_for

log = logging.getLogger(__name__)

@dataclass
class Parts:
    """The long-lived pieces one process holds."""

    settings: Settings
    db_engine: Engine
    db_sessions: sessionmaker[Session]
    redis: redis.Redis
    flow: Flow | None
    helpline: Helpline
    conversations: ConversationStore
    queue: Queue
    directory: LiveDirectory | None = None
    reloader: Reloader | None = None
    request_db_engine: Engine | None = None
    """Bounded engine for the database work a reply waits on (see `request_path_engine`)."""


def served_states(directory: Directory, flow: Flow) -> tuple[str, ...]:
    """States with at least one local listing: county names are looked for there first."""
    states: set[str] = set()
    for topic in flow.topics:
        states |= {key.split(":", 1)[0] for key in directory.counties_served(topic)}
    return tuple(sorted(states))


def live_directory(settings: Settings, factory: sessionmaker[Session], places: Gazetteer) -> LiveDirectory:
    """The in-memory directory index, loaded now if the database answers (else by its first background check)."""
    directory = LiveDirectory(
        SqlDirectory(factory), places.centroids, settings.directory_check_seconds,
        database_url=settings.database_url,
    )
    try:
        directory.refresh()
    except Exception as exc:  # noqa: BLE001 - a database outage at start must not stop the hotlines
        log.error("could not load the directory from the database: %s: %s", type(exc).__name__, exc)
    return directory


def make_context(
    settings: Settings, flow: Flow, directory: Directory, places: Gazetteer, crisis: CrisisScreen | None = None
) -> Context:
    """The engine's context for a flow and a directory (the app, the reloader and the admin tools share it)."""
    try:
        served = served_states(directory, flow)
    except Exception as exc:  # noqa: BLE001 - a database outage at start must not stop the hotlines
        log.error("could not read served states from the database: %s", type(exc).__name__)
        served = ()
    prefer = (settings.home_states, tuple(s for s in served if s not in settings.home_states))
    places.warm(prefer)
    return Context(
        flow=flow,
        places=places,
        directory=directory,
        hotlines=hotlines(settings),
        prefer_states=prefer,
        sms_budget=settings.sms_segment_budget,
        crisis=crisis,
        zip_radius_miles=settings.zip_radius_miles,
        default_language=settings.default_language,
    )


def build(settings: Settings, redis_client: redis.Redis | None = None, places: Gazetteer | None = None) -> Parts:
    """Everything a web or CLI process needs, wired from settings; `places` default to the gazetteer from the
    cache in `INSTANCE_DIR` (tests hand one in, as it is read-only)."""
    places = places or load_gazetteer(settings.instance_dir)
    connect = settings.database_connect_timeout_seconds
    engine = make_engine(settings.database_url, bounds=Bounds(connect))
    factory = make_session_factory(engine)
    request_engine = request_path_engine(settings, engine)
    directory = live_directory(settings, factory, places)
    if redis_client is None:
        if not settings.redis_url:
            raise RuntimeError("REDIS_URL is not set; `helpline serve` starts an embedded Redis and sets it")
        redis_client = client_for(settings.redis_url, settings.redis_timeout_seconds)
    reloader = Reloader(
        settings, engine, factory, redis_client, directory, places,
        lambda flow, crisis: make_context(settings, flow, directory, places, crisis),
    )
    # The flow file if it passes its checks, else the last good copy, else the built-in safe flow.
    context = reloader.start()
    opt_outs = OptOutStore(
        make_session_factory(request_engine), mirror=redis_client, sync_seconds=settings.opt_out_sync_seconds
    )
    conversations = ConversationStore(
        redis_client,
        SessionKeys(settings.session_ttl_seconds, settings.returning_ttl_seconds),
        RateLimit(settings.rate_limit_count, settings.rate_limit_window_seconds),
        Replay(settings.replay_ttl_seconds),
        opt_outs,
    )
    helpline = Helpline(
        context,
        conversations,
        settings.hash_secret,
        opt_outs,
        confirm_opt_outs=settings.opt_out_handled_by == "app",
        catch_up=reloader.catch_up,
    )
    reloader.attach(helpline)
    queue = text_queue(redis_client)
    return Parts(
        settings, engine, factory, redis_client, context.flow, helpline, conversations, queue, directory, reloader,
        request_engine,
    )


def request_path_engine(settings: Settings, engine: Engine) -> Engine:
    """The engine for database work a reply waits on (consent, the health check): every wait bounded.

    Its own pool, so that background work on `engine` (loading the directory, which may take long) is not
    cut by the request path's deadline. An in-memory SQLite database has one connection: it is shared.
    """
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return engine
    bounds = Bounds(settings.database_connect_timeout_seconds, settings.database_timeout_seconds)
    return make_engine(settings.database_url, bounds=bounds)
