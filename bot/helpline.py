"""The helpline as one object: the flow engine wired to its conversation store, opt-outs and directory.

One message, top to bottom: the web handler calls `Helpline.converse`, which opens the conversation (one read:
the delivery's claim, the session, the rate count, the opt-out copy), reads consent words, then runs the
engine, and returns an `Outcome`; the handler makes its TwiML and hands both to `Helpline.commit` (one write:
the session and the answer kept for a redelivery). Neither raises for a person's message. When a part fails
(Redis, the database), the conversation degrades: it goes on without memory, or with the hotlines alone, and
the failure is logged once per kind of fault rather than once per request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from bot.core.compliance import keyword_language, opt_in_keyword, opt_out_keyword
from bot.core.engine import Context, Inbound, Turn, default_language, fallback_reply, step
from bot.core.identity import person_key
from bot.core.reply import Reply
from bot.core.session import NOT_REMEMBERED, Conversations, Opening, Session
from bot.faults import FaultLog

log = logging.getLogger(__name__)

ANSWER_WORDS = frozenset({"yes", "si"})
"""Opt-in words that also answer a question in a flow ("Did you mean Lake County? yes"): they resubscribe
a number that opted out and are otherwise left to the engine. Every other opt-in word (START, UNSTOP) is
read as consent whatever the conversation's state."""


class OptOuts(Protocol):
    def is_opted_out(self, person: str) -> bool:
        """Raises when consent cannot be known (no store answers)."""
        ...

    def held(self, person: str) -> bool | None:
        """A change this process took that a store still lacks, which outranks the fast copy; or None."""
        ...

    def opt_out(self, person: str, keyword: str) -> object:
        """Record a STOP; never raises (what no store takes now is kept and retried)."""
        ...

    def opt_in(self, person: str) -> object:
        """Record a START; never raises."""
        ...


@dataclass(frozen=True)
class Outcome:
    """What the web layer needs: the reply (None means send nothing) and whether it is degraded."""

    reply: Reply | None
    degraded: bool = False
    step: int = 0
    """How many turns the conversation has had; calls put it in their callback URLs to tell retries apart."""
    commit: Commit | None = None
    """What `Helpline.commit` writes once the web layer has made the answer."""
    replayed: bytes | None = None
    """A redelivered copy's answer: the one the first copy gave, sent again as it is."""
    busy: bool = False
    """A redelivered copy whose first is still being answered: `reply` is a short answer with the hotlines."""


@dataclass(frozen=True)
class Commit:
    """What answering a message writes after its answer is made: the session to keep (None: nothing to keep)
    and the delivery this copy claimed (its answer is kept for a redelivery)."""

    key: str
    session: Session | None
    delivery: str | None


class Helpline:
    """The running helpline: context (flow, places, directory, hotlines), conversations and consent."""

    def __init__(
        self,
        context: Context,
        conversations: Conversations,
        hash_secret: str,
        opt_outs: OptOuts | None = None,
        confirm_opt_outs: bool = True,
        catch_up: Callable[[], None] | None = None,
    ):
        # The reloader replaces `context` whole (one assignment, atomic for readers); a request reads it once.
        self.context = context
        self.catch_up = catch_up
        self.conversations = conversations
        self.hash_secret = hash_secret
        self.opt_outs = opt_outs
        self.confirm_opt_outs = confirm_opt_outs
        self.faults = FaultLog()

    def _consent(
        self, key: str, person: str, inbound: Inbound, known: bool | None, language: str | None = None
    ) -> Outcome | None:
        """STOP, START and silence for opted-out numbers, before anything else; None to go on.

        Consent words are read here, before the engine, so START is never a county nor YES a menu answer
        for a number that opted out. `known` is the fast copy's answer; when it has none, the stores are
        asked (`OptOuts.is_opted_out`); when neither answers, the number is answered. A change is
        confirmed at once: the store takes it wherever it can and keeps trying where it cannot.
        `language` is the person's (the conversation's or the remembered one): a confirmation is worded in
        it, or in the language of the word itself when that is not the default (PARAR is answered in Spanish).
        """
        if self.opt_outs is None:
            return None
        held = self.opt_outs.held(person)
        known = held if held is not None else known
        stop = opt_out_keyword(inbound.text)
        start = opt_in_keyword(inbound.text) if stop is None else None
        if stop is None and start is None and known is False:
            return None
        opted_out = known if known is not None else self._opted_out(person)
        if stop is not None:
            if opted_out:
                return Outcome(None)
            self.opt_outs.opt_out(person, stop)
            log.info("sms %s opted out (%s)", person[-8:], stop)
            self._forget_now(key)
            if not self.confirm_opt_outs:
                return Outcome(None)
            lang = _consent_language(self.context, stop, language)
            notice = self.context.flow.message("opted_out", lang).format(program=self.context.hotlines.program)
            return Outcome(Reply(self.context.hotlines, notice=notice, expect="none", tags=("opted-out",),
                                 language=lang))
        if start is not None and (opted_out or start not in ANSWER_WORDS):
            if opted_out is not False:
                self.opt_outs.opt_in(person)
                log.info("sms %s opted back in", person[-8:])
            return self._welcome_back_in(key, _consent_language(self.context, start, language))
        return Outcome(None) if opted_out else None

    def _opted_out(self, person: str) -> bool | None:
        """The stores' answer; None (answer them) when neither knows."""
        assert self.opt_outs is not None
        try:
            return self.opt_outs.is_opted_out(person)
        except Exception as exc:  # noqa: BLE001 - consent unknown: answer rather than go silent
            self.faults.report("opt-out check", exc)
            return None

    def _welcome_back_in(self, key: str, language: str) -> Outcome:
        """The menu, fresh (the conversation before STOP is over), with the resubscribed notice, in `language`."""
        context = self.context
        turn = step(context, None, Inbound(text="", channel="sms"), remembered=language)
        notice = context.flow.message("opted_in", language).format(program=context.hotlines.program)
        return Outcome(replace(turn.reply, notice=notice), step=turn.session.turns,
                       commit=Commit(key, turn.session, None))

    def _forget_now(self, key: str) -> None:
        """STOP: the conversation is over at once (a later START begins afresh)."""
        try:
            self.conversations.forget(key)
        except Exception as exc:  # noqa: BLE001 - the conversation then restarts when it expires
            self.faults.report("session restart", exc)

    def key_for(self, channel: str, sender: str) -> str:
        """The stored identity of a sender on a channel: a keyed hash, never the number."""
        return _conversation_key(channel, person_key(self.hash_secret, sender))

    def _open(self, key: str, person: str | None, delivery: str | None) -> Opening:
        try:
            return self.conversations.open(key, person, delivery)
        except Exception as exc:  # noqa: BLE001 - any storage fault degrades, never fails the reply
            self.faults.report("session load", exc)
            return NOT_REMEMBERED

    def _flooding(self, opening: Opening, inbound: Inbound) -> bool:
        """Over the rate limit, and not in crisis: a crisis message is always answered in full."""
        if not opening.over_limit:
            return False
        crisis = self.context.crisis
        return crisis is None or crisis.match(inbound.text) is None

    def _context_for(self, session: Session | None) -> Context:
        """The current context; first catching up with a reload if the session is in a state it lacks."""
        context = self.context
        if session is None or self.catch_up is None:
            return context
        if session.flow == context.flow.name and session.state not in context.flow.states:
            # Another worker may already serve a newer flow that has this state: catch up before restarting.
            try:
                self.catch_up()
            except Exception as exc:  # noqa: BLE001
                self.faults.report("flow reload", exc)
            context = self.context
        return context

    def _answer_anonymous(self, inbound: Inbound) -> Outcome:
        """A message with no sender (not something Twilio sends): answered, but remembered for no one."""
        context = self.context
        try:
            return Outcome(step(context, None, inbound).reply, degraded=True)
        except Exception as exc:  # noqa: BLE001
            self.faults.report("engine step", exc)
            return Outcome(fallback_reply(context.hotlines), degraded=True)

    def converse(self, channel: str, sender: str, inbound: Inbound, delivery: str | None = None) -> Outcome:
        """Answer one message from `sender` (a phone number or call id) on `channel`; nothing is written yet.

        `delivery` names the webhook delivery (`conversations.delivery_key`) when a copy of it may come again:
        a later copy gets the first one's answer (`Outcome.replayed`). The caller makes the answer from the
        outcome, then hands both to `commit`.
        """
        if not sender:
            return self._answer_anonymous(inbound)
        person = person_key(self.hash_secret, sender)
        key = _conversation_key(channel, person)
        # Calls are paced by the call itself (each request is Twilio reporting what a live caller did), and
        # a quick caller keying through menus must never be told to slow down: only texts are limited.
        opening = self._open(key, person if channel == "sms" else None, delivery)
        if opening.duplicate:
            return self._copy(delivery, opening)
        claimed = Commit(key, None, opening.claimed)
        lang = opening.conversation_language
        if channel == "sms":
            consent = self._consent(key, person, inbound, opening.opted_out, lang)
            if consent is not None:
                kept = consent.commit.session if consent.commit is not None else None
                return replace(consent, commit=replace(claimed, session=kept))
            if self._flooding(opening, inbound):
                log.info("%s %s rate limited", channel, key[-8:])
                said = lang or default_language(self.context)
                notice = self.context.flow.message("slow_down", said)
                reply = replace(fallback_reply(self.context.hotlines, notice, said), tags=("rate-limited",))
                return Outcome(reply, commit=claimed)
        session, returning, remembered = opening.session, opening.returning, opening.remembered
        context = self._context_for(session)
        try:
            turn: Turn = step(context, session, inbound, returning=returning, remembered=opening.language)
        except Exception as exc:  # noqa: BLE001
            self.faults.report("engine step", exc)
            said = lang or default_language(context)
            notice = context.flow.message("unavailable", said)
            return Outcome(fallback_reply(context.hotlines, notice, said), degraded=True, commit=claimed)
        log.info("%s %s -> %s (turn %d)", channel, key[-8:], turn.session.state, turn.session.turns)
        kept = turn.session if remembered else None
        return Outcome(turn.reply, degraded=not remembered, step=turn.session.turns,
                       commit=replace(claimed, session=kept))

    def _copy(self, delivery: str | None, opening: Opening) -> Outcome:
        """A redelivered copy: the first copy's answer, or, while that is still being made, a short one."""
        answer = self.conversations.first_answer(delivery) if delivery is not None else None
        if answer is not None:
            return Outcome(None, replayed=answer)
        lang = opening.conversation_language or default_language(self.context)
        return Outcome(fallback_reply(self.context.hotlines, "", lang), degraded=True, busy=True)

    def commit(self, outcome: Outcome, answer: bytes | None) -> None:
        """Write what answering took: the session and, for a claimed delivery, `answer`; never raises.

        A failure is logged: the answer is given anyway, and the conversation goes on from where the store
        last had it.
        """
        done = outcome.commit
        if done is None or (done.session is None and done.delivery is None):
            return
        try:
            self.conversations.commit(done.key, done.session, done.delivery, answer)
        except Exception as exc:  # noqa: BLE001
            self.faults.report("answer and session save", exc)

    def release(self, outcome: Outcome) -> None:
        """The answer could not be made: let a redelivery of the claimed delivery be answered afresh."""
        if outcome.commit is not None and outcome.commit.delivery is not None:
            self.conversations.release(outcome.commit.delivery)

    def forget(self, channel: str, sender: str) -> None:
        """Drop what is kept about a conversation that is over (a call that ended); never raises."""
        key = self.key_for(channel, sender)
        try:
            self.conversations.forget(key)
        except Exception as exc:  # noqa: BLE001 - it expires by itself anyway
            self.faults.report("session forget", exc)


def _conversation_key(channel: str, person: str) -> str:
    return f"{channel}:{person}"


def _consent_language(context: Context, keyword: str, person: str | None) -> str:
    """A STOP or START confirmation's language: the word's own when it is not the default language's
    (PARAR -> Spanish), else the person's, else the default."""
    said = keyword_language(keyword)
    default = default_language(context)
    for lang in ((said if said != context.flow.default_language else None), person, said):
        if lang in context.flow.languages:
            return lang
    return default
