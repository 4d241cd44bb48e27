"""Background jobs (rq): texting a caller the resource list they heard, once, without making the call wait.

Jobs take plain JSON values (rq's JSONSerializer) and build their own clients from settings. The caller's
number lives only in the job's payload (in Redis, until the job ends: results are kept 60 seconds, failures
10 minutes) and never in a log line, a result or an exception message.

Sending exactly once. `enqueue_text` claims an outbox record (SET NX), so asking twice queues once. The job
takes a short lock, marks the record `sending`, asks Twilio to send, then marks it `sent` with the message
SID. The crash window is between Twilio accepting the message and the `sent` mark: a job that finds its
record still `sending` (its earlier attempt died, timed out or got a 5xx) first lists the recent messages
to that number and, if one with this body was created since the request, records it as sent instead of
sending again. What remains: if Twilio accepted a message but does not list it yet when the retry looks
(the retry comes seconds later), the caller gets it twice; and if Twilio is unreachable for the whole
retry budget (in-job delays, then rq's own retries), the text is not sent and the failure is logged.

Transient failures (HTTP 429 or 5xx, no connection, a timeout) are retried with backoff inside the job
(`TEXT_RETRY_DELAYS`), then by rq (`Retry`, immediately, up to `RQ_RETRIES` more runs); a permanent one
(any other 4xx: 21610 opted out, 21211 invalid number, 21614 not a mobile...) is recorded and never retried.
Retrying inside the job keeps rq's scheduler out of it: its lock outlives a killed worker by a minute.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import phonenumbers
import redis
import requests
from redis.exceptions import LockError
from rq import Queue, Retry
from rq.serializers import JSONSerializer
from rq.timeouts import JobTimeoutException
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.config import Settings, load_settings
from bot.core.identity import person_key
from bot.storage.db import make_engine, make_session_factory
from bot.storage.opt_outs import OptOutStore
from bot.storage.outbox import Outbox, Record
from bot.storage.redis_server import client_for

log = logging.getLogger(__name__)

QUEUE_NAME = "helpline"
RQ_RETRIES = 3
JOB_TIMEOUT_SECONDS = 300
QUEUED_TTL_SECONDS = 60 * 60
RESULT_TTL_SECONDS = 60
FAILURE_TTL_SECONDS = 10 * 60
LOCK_MARGIN_SECONDS = 2.0
CLOCK_SKEW_SECONDS = 120.0
RECENT_MESSAGES = 20

# What Twilio sends as the caller's number when caller ID is withheld ("ANONYMOUS", "RESTRICTED"...).
WITHHELD_NUMBERS = {"+266696687", "+7378742833", "+8656696", "+2562533", "+86282452253", "anonymous", ""}


class TransientSendError(RuntimeError):
    """Twilio was busy or out of reach on every attempt of this run; rq runs the job again."""


class _Transient(Exception):
    """One attempt failed in a way that may succeed later."""


@functools.lru_cache(maxsize=4)
def _worker_opt_outs(database_url: str, redis_url: str | None) -> OptOutStore:
    """The rq worker's opt-out store: one engine pool per worker process and database, shared by its jobs (a web
    process asks the store `bot.wiring.build` made)."""
    factory = make_session_factory(make_engine(database_url))
    return OptOutStore(factory, mirror=client_for(redis_url) if redis_url else None)


def may_send(is_opted_out: Callable[[str], bool], hash_secret: str, number: str) -> bool:
    """Whether this number may be sent a text at all: not if it opted out, nor if that cannot be checked."""
    try:
        return not is_opted_out(person_key(hash_secret, number))
    except Exception as exc:  # noqa: BLE001 - consent unknown: do not text
        log.error("opt-out check failed, not texting: %s", type(exc).__name__)
        return False


def _worker_may_send(settings: Settings, number: str) -> bool:
    """`may_send`, asked of this worker's store."""
    try:
        store = _worker_opt_outs(settings.database_url, settings.redis_url)
    except Exception as exc:  # noqa: BLE001 - no store to ask: consent unknown, do not text
        log.error("opt-out check failed, not texting: %s", type(exc).__name__)
        return False
    return may_send(store.is_opted_out, settings.hash_secret, number)


def can_text(settings: Settings, number: str) -> bool:
    """Whether we could text this caller: texting is configured and the number is a real North American one."""
    if not settings.can_send_texts or number.strip().lower() in WITHHELD_NUMBERS:
        return False
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return parsed.country_code == 1 and phonenumbers.is_valid_number(parsed)


def text_queue(connection: redis.Redis) -> Queue:
    """The queue texts wait in (JSON payloads)."""
    return Queue(QUEUE_NAME, connection=connection, serializer=JSONSerializer)


def enqueue_text(
    queue: Queue,
    *,
    send_id: str,
    to: str,
    body: str,
    reply_from: str | None = None,
    status_callback: str | None = None,
) -> str:
    """Queue one text; "queued", or "already" when this `send_id` was asked for before. Raises if Redis fails."""
    outbox = Outbox(queue.connection, send_id)
    if not outbox.claim():
        return "already"
    try:
        queue.enqueue(
            "bot.jobs.send_text",
            kwargs={
                "send_id": send_id,
                "to": to,
                "body": body,
                "reply_from": reply_from,
                "status_callback": status_callback,
            },
            job_id=f"text-{send_id}",
            description="send a resource list by text",
            retry=Retry(max=RQ_RETRIES),
            job_timeout=JOB_TIMEOUT_SECONDS,
            ttl=QUEUED_TTL_SECONDS,
            result_ttl=RESULT_TTL_SECONDS,
            failure_ttl=FAILURE_TTL_SECONDS,
        )
    except Exception:
        outbox.release()
        raise
    return "queued"


def twilio_client(settings: Settings) -> Client:
    """A REST client from settings; `TWILIO_API_BASE_URL` points it elsewhere (a local fake API in tests)."""
    http_log = logging.getLogger("bot.jobs.twilio_http")
    http_log.setLevel(logging.WARNING)  # the library logs request URLs at INFO, and a list URL carries the number
    logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)  # ...and urllib3 does at DEBUG
    http = TwilioHttpClient(timeout=settings.twilio_http_timeout_seconds, logger=http_log)
    # environment={} keeps TWILIO_EDGE/TWILIO_REGION in os.environ from rewriting the host behind our back.
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http, environment={})
    if settings.twilio_api_base_url:
        client.api.base_url = settings.twilio_api_base_url.rstrip("/")
    return client


def send_text(
    send_id: str, to: str, body: str, reply_from: str | None = None, status_callback: str | None = None
) -> dict[str, Any]:
    """The rq job: send `body` to `to` once (see the module docstring for what "once" survives)."""
    settings = load_settings()
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set")
    connection = client_for(settings.redis_url)
    try:
        return deliver(
            settings,
            connection,
            twilio_client(settings),
            send_id=send_id,
            to=to,
            body=body,
            reply_from=reply_from,
            status_callback=status_callback,
        )
    finally:
        connection.close()


def deliver(
    settings: Settings,
    connection: redis.Redis,
    twilio: Client,
    *,
    send_id: str,
    to: str,
    body: str,
    reply_from: str | None = None,
    status_callback: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Send one text through `twilio`, retrying transient failures, recording the outcome in the outbox."""
    outbox = Outbox(connection, send_id)
    record = outbox.read()
    if record.final:
        log.info("text %s: already %s, not sent again", send_id[:8], record.state)
        return _result(record)
    if not _worker_may_send(settings, to):
        outbox.write(Record("rejected", record.at, attempts=record.attempts))
        log.info("text %s: not sent, the number may not be texted", send_id[:8])
        return {"status": "withheld"}
    sender = _sender(settings, reply_from)
    last = "no attempt made"
    for delay in (0.0, *settings.text_retry_delays):
        if delay:
            sleep(delay)
        lock = outbox.lock(settings.twilio_http_timeout_seconds + LOCK_MARGIN_SECONDS)
        if not lock.acquire():
            last = "another attempt was still talking to Twilio"
            continue
        try:
            return _attempt(outbox, lock, twilio, sender, to, body, status_callback, send_id)
        except _Transient as exc:
            last = str(exc)
            log.warning("text %s: attempt failed, will retry: %s", send_id[:8], last)
        finally:
            with contextlib.suppress(LockError):  # expired already: nothing to release
                lock.release()
    raise TransientSendError(f"text {send_id[:8]} not sent on this run: {last}")


def _attempt(
    outbox: Outbox,
    lock: Any,
    twilio: Client,
    sender: dict[str, str],
    to: str,
    body: str,
    status_callback: str | None,
    send_id: str,
) -> dict[str, Any]:
    record = outbox.read()
    if record.final:
        return _result(record)
    since = (record.at or time.time()) - CLOCK_SKEW_SECONDS
    try:
        if record.state == "sending":
            # An earlier attempt may have reached Twilio without hearing back: look before sending again.
            sid = _find_sent(twilio, sender, to, body, since)
            if sid:
                done = Record("sent", record.at, sid=sid, attempts=record.attempts)
                outbox.write(done)
                log.info("text %s: found already sent as %s, not sent again", send_id[:8], sid)
                return _result(done)
            lock.reacquire()
        outbox.write(Record("sending", record.at or time.time(), attempts=record.attempts + 1))
        message = twilio.messages.create(to=to, body=body, status_callback=status_callback, **sender)
    except TwilioRestException as exc:
        if exc.status == 429 or exc.status >= 500:
            raise _Transient(f"Twilio answered HTTP {exc.status} (error {exc.code})") from None
        refused = Record("rejected", record.at, code=exc.code, attempts=record.attempts + 1)
        outbox.write(refused)
        log.warning("text %s: Twilio refused it for good: HTTP %s, error %s", send_id[:8], exc.status, exc.code)
        return _result(refused)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _Transient(f"could not reach Twilio ({type(exc).__name__})") from None
    except JobTimeoutException:
        raise  # rq's own limit on the whole job: let it end the job
    except Exception as exc:  # noqa: BLE001 - its message may hold the number; keep only the type
        raise _Transient(f"unexpected {type(exc).__name__}") from None
    sent = Record("sent", record.at, sid=str(message.sid), attempts=record.attempts + 1)
    outbox.write(sent)
    log.info("text %s: sent as %s", send_id[:8], message.sid)
    return _result(sent)


def _find_sent(twilio: Client, sender: dict[str, str], to: str, body: str, since: float) -> str | None:
    """The SID of a message with this body sent to `to` since `since` (epoch seconds), if Twilio lists one."""
    wanted = " ".join(body.split())
    for message in twilio.messages.list(to=to, limit=RECENT_MESSAGES):
        created = message.date_created.timestamp() if message.date_created else since
        if created < since:
            continue
        if "from_" in sender and message.from_ != sender["from_"]:
            continue
        if "messaging_service_sid" in sender and message.messaging_service_sid != sender["messaging_service_sid"]:
            continue
        if wanted in " ".join((message.body or "").split()):  # Twilio may prefix a trial notice
            return str(message.sid)
    return None


def _sender(settings: Settings, reply_from: str | None) -> dict[str, str]:
    """Who the text comes from: the messaging service, the configured number, or the number the person called."""
    if settings.twilio_messaging_service_sid:
        return {"messaging_service_sid": settings.twilio_messaging_service_sid}
    if settings.twilio_from_number:
        return {"from_": settings.twilio_from_number}
    if reply_from:
        return {"from_": reply_from}
    raise RuntimeError("no sender: set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")


def _result(record: Record) -> dict[str, Any]:
    """What the job returns (kept by rq for a minute): never the number or the words."""
    if record.state == "sent":
        return {"status": "sent", "sid": record.sid}
    if record.state == "rejected" and record.code is None:
        return {"status": "withheld"}
    return {"status": record.state, "code": record.code}
