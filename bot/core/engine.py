"""The flow engine: (context, session, inbound message) -> (new session, reply), for texts and calls alike.

Order of reading a message, in every state: the crisis screen first; on calls the keys and words every call
understands (0 or "operator" for a person, star to repeat, 9 for more time); then global words (MENU, BACK,
HELP), paging (MORE), an open question ("did you mean", "which would help most"), the state's own digits and
keywords, then what `reading` finds in the words (a question to answer, a topic, a place: "NA meetings near
Port Orange" goes straight to the results), then a keyword inside a sentence. Calls also bring events (the call
began, a transfer ended) and count the tries in a row that went unheard or not understood: after two, the
caller is put through to a person; a texter who is not understood twice in a row is offered the 24/7 line.
The engine never formats for a channel; `render` does, and the hotlines ride on every `Reply`.

Language: a new conversation takes the language its first message is clearly in (`language.detect`),
else the one remembered for a returning person, else the default; ESPAÑOL or ENGLISH (or, on a call at the
first menu, `LANGUAGE_KEY`) switches at any point, and every reply is worded in the session's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from bot.core import language
from bot.core.directory import County, Directory, Resource
from bot.core.flows.model import GLOBAL_WORDS, LANGUAGE_KEY, VOICE_KEYS, VOICE_WORDS, Flow, Option, Said, State
from bot.core.places import US_STATES, Gazetteer, Place, PlaceMatch, Town
from bot.core.reading import Reading, read_words
from bot.core.render import fit, offer_fits, spoken_line
from bot.core.reply import Choice, Hotlines, Reply, Section, TextedList
from bot.core.safety import CrisisScreen
from bot.core.search import ZIP_RADIUS_MILES, find_near_zip, find_resources
from bot.core.session import Session
from bot.core.text import fold

YES = {"yes", "y", "yeah", "yep", "yup", "si", "correct", "right", "ok", "okay", "claro", "correcto", "asi es"}
NO = {"no", "n", "nope", "nah", "wrong"}
MORE = {"more", "next", "mas", "siguiente"}
DEFAULT_TOPIC = "peer-support"
_GLOBAL = {word: action for action, words in GLOBAL_WORDS.items() for word in words}
_VOICE = {word: action for action, words in VOICE_WORDS.items() for word in words}
# Asking for a person anywhere in a sentence ("can I talk to someone?") is enough: better a transfer too many.
_PERSON_PHRASES = ("operator", "representative", "real person", "talk to someone", "speak to someone",
                   "talk with someone", "speak with someone", "talk to a person", "speak to a person",
                   "operador", "operadora", "hablar con alguien", "hablar con una persona")
_ASKS_FOR_PERSON = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in _PERSON_PHRASES) + r")\b")
_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9",
    "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6", "siete": "7",
    "ocho": "8", "nueve": "9",
}  # fmt: skip
_SPOKEN_PREFIX = re.compile(r"^(?:press|option|number|pressing|oprimo|marco|opcion|numero|el|la)\s+")
_SPACED_DIGITS = re.compile(r"^[\d\s.,-]+$")
_STATE_NAMES = {
    code: " ".join(w if w == "of" else w.capitalize() for w in name.split()) for name, code in US_STATES.items()
}

TOPIC_PENDING = "topic:"
"""Prefix of a pending answer that is a topic ("which would help most?"), beside county and town keys."""
PLACE_VARS = ("county", "zip", "near", "also")
"""Session variables that say where the person is: a county, and the ZIP, town and other counties of a town."""

MISSES_BEFORE_CONNECT = 2
"""Silent or not-understood tries in a row, on a call, after which the caller is put through to a person."""
MAX_DIAL_ATTEMPTS = 3
"""Failed transfers after which 0 no longer dials again (the caller hears every number instead)."""
LOW_CONFIDENCE = 0.4
"""Below this speech-recognition confidence a heard county is confirmed before it is used."""
DIAL_ANSWERED = {"completed", "answered"}


@dataclass(frozen=True)
class Inbound:
    """One thing the person did: a text, a spoken phrase, keys pressed on a call, or a call event.

    `event` is "call" when a call begins (with `can_text`: whether we could text the caller), or
    "dial:<status>" when a transfer to the 24/7 line ended. `confidence` is the speech recogniser's.
    """

    text: str = ""
    channel: str = "sms"
    digits: str = ""
    event: str = ""
    confidence: float | None = None
    can_text: bool = True


@dataclass(frozen=True)
class Context:
    """What the engine may consult: the flow, places, the directory and the lines every reply carries."""

    flow: Flow
    places: Gazetteer
    directory: Directory
    hotlines: Hotlines
    prefer_states: tuple[tuple[str, ...], ...] = ()
    sms_budget: int = 4
    crisis: CrisisScreen | None = None
    zip_radius_miles: float = ZIP_RADIUS_MILES
    default_language: str = ""
    """The language of new conversations (`DEFAULT_LANGUAGE`); "" or one the flow lacks: the flow's first."""


@dataclass(frozen=True)
class Turn:
    """The engine's answer: where the conversation now stands and what to say (and whether that was a miss)."""

    session: Session
    reply: Reply
    missed: bool = False
    why: tuple[str, ...] = ()
    """How the message was read (which word, phrase, place or rule), for `helpline chat` and transcripts."""


def new_session(flow: Flow, language: str | None = None) -> Session:
    """A conversation at the flow's start."""
    lang = language if language in flow.languages else flow.default_language
    return Session(flow=flow.name, state=flow.start, language=lang)


def default_language(ctx: Context) -> str:
    """The language of a new conversation nothing else has chosen."""
    return ctx.default_language if ctx.default_language in ctx.flow.languages else ctx.flow.default_language


def first_language(ctx: Context, text: str, remembered: str | None = None) -> str:
    """A new conversation's language: what its first message is clearly in, else the remembered one,
    else the default (see `language.detect`)."""
    languages = ctx.flow.languages
    for lang in (language.switch(fold(text)), language.detect(text), remembered):
        if lang in languages:
            return lang
    return default_language(ctx)


def step(
    ctx: Context, session: Session | None, inbound: Inbound, *, returning: bool = False, remembered: str | None = None
) -> Turn:
    """Advance one conversation by one message; `remembered` is a returning person's language."""
    turn = _step(ctx, session, inbound, returning, remembered)
    reply = turn.reply
    # A crisis answer is worded, footer and all, in the language the danger was named in.
    named = any(tag.startswith("crisis:") for tag in reply.tags)
    lang = reply.language if named else turn.session.language
    offer = language.offered(ctx.flow.languages, lang)
    if offer and not (turn.session.state == ctx.flow.start and reply.choices and not turn.session.pending):
        offer = ""
    if offer and inbound.channel != "voice" and not offer_fits(reply, lang, offer, ctx.sms_budget):
        offer = ""  # a welcome that already carries HELP and "welcome back" goes without it
    if reply.language == lang and not offer:
        return turn  # most replies are made in the session's language already: no copy
    return Turn(turn.session, replace(reply, language=lang, offer_language=offer), turn.missed, turn.why)


def _switched(ctx: Context, session: Session, folded: str, channel: str) -> Turn | None:
    """ESPAÑOL / ENGLISH at any point (on a call also `LANGUAGE_KEY` at the first menu): the same place,
    in the other language."""
    lang = language.switch(folded)
    if lang is None and channel == "voice" and folded == LANGUAGE_KEY and session.state == ctx.flow.start:
        lang = language.offered(ctx.flow.languages, session.language)
    if lang not in ctx.flow.languages:
        return None
    return _again(ctx, replace(session, language=lang), channel)


def _step(ctx: Context, session: Session | None, inbound: Inbound, returning: bool, remembered: str | None) -> Turn:
    flow = ctx.flow
    channel = inbound.channel
    if inbound.event:
        happened = _event(ctx, session, inbound)
        return replace(happened, session=replace(happened.session, turns=happened.session.turns + 1))
    crisis = _crisis_turn(ctx, session, inbound, remembered)
    if crisis is not None:
        return crisis
    folded = _heard(inbound)
    doubtful = inbound.confidence is not None and inbound.confidence < LOW_CONFIDENCE
    if session is not None and any(h not in flow.states for h in session.history):
        # The flow was reloaded without some state this person passed through: BACK skips it.
        session = replace(session, history=tuple(h for h in session.history if h in flow.states))
    if session is None or session.flow != flow.name or session.state not in flow.states:
        vanished = session is not None and session.flow == flow.name
        lang = session.language if session is not None else first_language(ctx, inbound.text, remembered)
        fresh = new_session(flow, lang)
        # A first message that only chooses the language (ESPAÑOL, or 8 on a call) gets the menu in it.
        switched = None if vanished else _switched(ctx, fresh, folded, channel)
        if vanished:
            # The message answered a menu that no longer exists: show the new menu rather than guess.
            greeting, folded = flow.message("flow_changed", fresh.language, channel), ""
        else:
            greeting = flow.message("welcome_back", fresh.language, channel) if returning else ""
        read = switched or (_read(ctx, fresh, folded, channel, doubtful) if folded else None)
        turn = read if read is not None else _show(ctx, fresh, flow.start, channel)
        turn = _with_notice(replace(turn, missed=False), greeting, first=True)
    elif channel == "voice" and not folded:
        turn = replace(_again(ctx, session, channel, flow.message("no_input", session.language, channel)), missed=True)
    elif (switched := _switched(ctx, session, folded, channel)) is not None:
        turn = switched
    else:
        read = _read(ctx, session, folded, channel, doubtful)
        if read is None:
            notice = flow.message("not_understood", session.language, channel)
            read = replace(_show(ctx, session, session.state, channel, notice), missed=True)
        turn = read
    if channel == "voice":
        turn = _count_miss(ctx, session, turn)
        if turn.session.offered_person:
            turn = replace(turn, session=replace(turn.session, offered_person=False))
    else:
        turn = _count_text_miss(ctx, session, turn)
    return replace(turn, session=replace(turn.session, turns=turn.session.turns + 1))


def _count_text_miss(ctx: Context, before: Session | None, turn: Turn) -> Turn:
    """By text: the second try in a row that is not understood also offers a person, plainly, with the number."""
    if not turn.missed:
        return replace(turn, session=replace(turn.session, misses=0)) if turn.session.misses else turn
    misses = (before.misses if before is not None else 0) + 1
    turn = replace(turn, session=replace(turn.session, misses=misses))
    if misses < MISSES_BEFORE_CONNECT:
        return turn
    offer = ctx.flow.message("offer_person", turn.session.language).format_map(_values(ctx, turn.session))
    return replace(_with_notice(turn, offer), why=(*turn.why, f"not understood {misses} times in a row"))


def _heard(inbound: Inbound) -> str:
    """What the person said or keyed, folded; on calls spoken digits and number words become digits."""
    if inbound.digits:
        return inbound.digits.strip()
    folded = fold(inbound.text)
    if inbound.channel != "voice" or not folded:
        return folded
    if _SPACED_DIGITS.match(inbound.text.strip()):
        return re.sub(r"\D", "", inbound.text)
    bare = _SPOKEN_PREFIX.sub("", folded)
    return _NUMBER_WORDS.get(bare, bare if bare.isdigit() else folded)


def _count_miss(ctx: Context, before: Session | None, turn: Turn) -> Turn:
    """On calls: two silent or not-understood tries in a row put the caller through to a person."""
    if not turn.missed:
        if turn.session.misses:
            turn = replace(turn, session=replace(turn.session, misses=0))
        return turn
    misses = (before.misses if before is not None else 0) + 1
    session = replace(turn.session, misses=misses)
    if misses < MISSES_BEFORE_CONNECT:
        return Turn(session, replace(turn.reply, misses=misses), missed=True)
    lang = session.language
    if session.dial_failures:
        # A transfer already failed on this call: say every number and end, rather than dial into a loop.
        goodbye = ctx.flow.message("goodbye", lang, "voice")
        reply = Reply(ctx.hotlines, notice=turn.reply.notice, speech=goodbye, action="hangup", crisis=True,
                      expect="none")
        return Turn(replace(session, misses=0), reply, missed=True)
    notice = f"{turn.reply.notice} {ctx.flow.message('connect_no_choice', lang, 'voice')}".strip()
    return Turn(replace(session, misses=0), Reply(ctx.hotlines, notice=notice, action="connect", expect="none"),
                missed=True)


def _event(ctx: Context, session: Session | None, inbound: Inbound) -> Turn:
    """A call began, or a transfer to the 24/7 line ended."""
    flow = ctx.flow
    if inbound.event == "call" or session is None or session.state not in flow.states:
        fresh = replace(new_session(flow, default_language(ctx)), can_text=inbound.can_text)
        if session is not None and inbound.event != "call":
            fresh = replace(fresh, dial_failures=session.dial_failures, can_text=session.can_text)
        if inbound.event == "call":
            turn = _show(ctx, fresh, flow.start, "voice")
            return replace(turn, reply=replace(turn.reply, crisis=True))
        session = fresh
    lang = session.language
    status = inbound.event.removeprefix("dial:") if inbound.event.startswith("dial:") else ""
    if status in DIAL_ANSWERED:
        goodbye = flow.message("goodbye", lang, "voice")
        return Turn(session, Reply(ctx.hotlines, speech=goodbye, action="hangup", crisis=True, expect="none"))
    if status:
        failed = replace(session, dial_failures=session.dial_failures + 1, misses=0)
        turn = _show(ctx, failed, failed.state, "voice", flow.message("dial_failed", lang, "voice"))
        return replace(turn, reply=replace(turn.reply, crisis=True))
    return _show(ctx, session, session.state, "voice")


def _connect(ctx: Context, session: Session) -> Turn:
    """Put the caller through to the 24/7 line (unless that has failed too often on this call)."""
    if session.dial_failures >= MAX_DIAL_ATTEMPTS:
        notice = ctx.flow.message("dial_limit", session.language, "voice")
        turn = _show(ctx, session, session.state, "voice", notice)
        return replace(turn, reply=replace(turn.reply, crisis=True))
    return Turn(replace(session, pending=()), Reply(ctx.hotlines, action="connect", expect="none"))


def _crisis_turn(ctx: Context, session: Session | None, inbound: Inbound, remembered: str | None) -> Turn | None:
    """Danger named in any state is answered first; the session stays where it was."""
    if ctx.crisis is None or not inbound.text:
        return None
    match = ctx.crisis.match(inbound.text)
    if match is None:
        return None
    kept = session
    if kept is None or kept.flow != ctx.flow.name or kept.state not in ctx.flow.states:
        # A new conversation takes the language the danger was named in, else its first message's.
        lang = kept.language if kept is not None else match.language or first_language(ctx, inbound.text, remembered)
        kept = new_session(ctx.flow, lang)
    # Answered in the language the danger was named in ("me quiero matar" in an English conversation).
    text = ctx.crisis.answer(match, match.language or kept.language, inbound.channel)
    said = match.language if match.language in ctx.flow.languages else kept.language
    reply = Reply(ctx.hotlines, text=text, crisis=True, expect="none", tags=(f"crisis:{match.category}",),
                  language=said)
    if inbound.channel == "voice":
        kept = replace(kept, offered_person=True, misses=0)  # the answer ends "press 0 or say yes"
    why = (f"crisis screen: {match.category} ({match.level}), by the pattern {match.phrase!r}",)
    return Turn(replace(kept, turns=kept.turns + 1), reply, why=why)


def _with_notice(turn: Turn, notice: str, first: bool = False) -> Turn:
    if not notice:
        return turn
    joined = f"{notice} {turn.reply.notice}".strip() if first else f"{turn.reply.notice} {notice}".strip()
    return replace(turn, reply=replace(turn.reply, notice=joined))


def _read(ctx: Context, session: Session, folded: str, channel: str, doubtful: bool = False) -> Turn | None:
    """Interpret a folded message in the session's state; None when it means nothing here."""
    flow = ctx.flow
    state = flow.states[session.state]
    lang = session.language
    if channel == "voice":
        if session.offered_person and folded in YES:
            return _connect(ctx, session)
        intent = VOICE_KEYS.get(folded) or _VOICE.get(folded) or ("connect" if _ASKS_FOR_PERSON.search(folded) else "")
        if intent == "connect":
            return _connect(ctx, session)
        if intent == "repeat":
            return _again(ctx, session, channel)
        if intent == "wait":
            shown = _show(ctx, session, session.state, channel)
            return replace(shown, reply=replace(shown.reply, wait=True))
    action = _GLOBAL.get(folded)
    if action == "menu":
        return _show(ctx, replace(session, history=(), pending=(), offset=0, state=flow.start), flow.start, channel)
    if action == "back":
        if not session.history:
            return _show(ctx, session, session.state, channel, flow.message("at_start", lang, channel))
        previous = session.back()
        return _show(ctx, previous, previous.state, channel)
    if action == "help":
        help_text = flow.message("help", lang, channel).format_map(_values(ctx, session, channel))
        return _show(ctx, session, session.state, channel, help_text)
    if folded in MORE and state.show == "resources":
        return _show(ctx, session, session.state, channel, page=True)
    if session.pending:
        answered = _answer_pending(ctx, session, folded, channel)
        if answered is not None:
            return answered
        session = replace(session, pending=())
    option = _pick_option(state, folded, lang, channel, session)
    if option is not None:
        return _take_option(ctx, session, state, option, channel)
    if not folded or (folded.isdigit() and len(folded) < 5):
        return None
    reading = read_words(
        flow, ctx.places, folded, lang, ctx.prefer_states, ctx.directory.counties_served,
        session.vars.get("topic", DEFAULT_TOPIC),
    )  # fmt: skip
    turn = _understood(ctx, session, state, reading, channel, doubtful)
    if turn is not None:
        return replace(turn, why=(*reading.why, *turn.why))
    option = _pick_contained(state, folded, lang, channel, session)
    if option is not None:
        turn = _take_option(ctx, session, state, option, channel)
        return replace(turn, why=(f"keyword of option {option.key} inside the message",))
    if state.expect == "place":
        notice = flow.message("place_unknown", lang, channel)
        return replace(_show(ctx, session, session.state, channel, notice), missed=True)
    return None


def _take_option(ctx: Context, session: Session, state: State, option: Option, channel: str) -> Turn:
    if option.do == "repeat":
        return _show(ctx, session, session.state, channel)
    if option.do == "text_list":
        return _text_list(ctx, session, state, channel)
    moved = session.goto(option.goto).with_vars(**option.sets)
    return _show(ctx, moved, option.goto, channel)


def _understood(
    ctx: Context, session: Session, state: State, reading: Reading, channel: str, doubtful: bool
) -> Turn | None:
    """Act on what the words said: answer a question, choose a topic (with its place, at once), or a place."""
    flow, lang = ctx.flow, session.language
    answer = reading.answer.said.answer if reading.answer is not None else None
    notice = answer.get(lang, flow.default_language) if answer is not None else ""
    place = reading.place
    if len(reading.topics) > 1:
        asked = _with_place(ctx, session, place) if place.found else session
        pending = tuple(TOPIC_PENDING + h.said.topic for h in reading.topics[:4])
        return _question(ctx, replace(asked, pending=pending), channel, notice)
    if reading.topics:
        said: Said = reading.topics[0].said
        chosen = session.with_vars(topic=said.topic)
        if said.goto:
            return _show(ctx, chosen.goto(said.goto), said.goto, channel, notice)
        if reading.names_place:
            return _place_turn(ctx, chosen, state, place, channel, doubtful, notice)
        if state.show == "resources" and chosen.vars.get("county") in ctx.places.counties:
            # Asked for another topic on a results page: the same place, the new topic.
            return _show(ctx, chosen, state.name, channel, notice)
        target = _place_state(flow) or flow.start
        return _show(ctx, chosen.goto(target), target, channel, notice)
    if reading.answer is not None:
        reply = Reply(ctx.hotlines, text=notice, hint=flow.message("go_on", lang, channel), expect="none")
        return Turn(session, reply)
    if reading.names_place:
        return _place_turn(ctx, session, state, place, channel, doubtful)
    return None


def _text_list(ctx: Context, session: Session, state: State, channel: str) -> Turn:
    """The caller asked for the resources just read, by text: the whole list, worded for a text."""
    county = ctx.places.counties.get(session.vars.get("county", ""))
    shown = _show(ctx, session, state.name, channel)
    if county is None:
        return shown
    title = _sentence(state.text.get(session.language, ctx.flow.default_language).format_map(_values(ctx, session)))
    topic = session.vars.get("topic", DEFAULT_TOPIC)
    texted = TextedList(title, _result_sections(ctx, session, county, "sms"), key=f"{county.key}|{topic}")
    reply = replace(shown.reply, text="", speech="", sections=(), more=0, hint="", texted=texted)
    return Turn(replace(shown.session, offset=session.offset), reply)


def _options(state: State, channel: str, session: Session) -> list[Option]:
    """The options offered here on `channel`, by digit; sending a text only when the caller can get one."""
    options = [o for o in state.options_for(channel) if o.do != "text_list" or session.can_text]
    return sorted(options, key=lambda o: o.key_for(channel))


def _pick_option(state: State, folded: str, language: str, channel: str, session: Session) -> Option | None:
    """The option whose digit, or one of whose keywords, is the whole message."""
    options = _options(state, channel, session)
    for o in options:
        if folded == o.key_for(channel):
            return o
    for o in options:
        if folded in o.keywords.get(language, ()):
            return o
    return None


def _pick_contained(state: State, folded: str, language: str, channel: str, session: Session) -> Option | None:
    """The one option with a keyword inside the message (none when two options' keywords are there)."""
    options = _options(state, channel, session)
    contained = [o for o in options if _any_word(o.keywords.get(language, ())).search(folded)]
    return contained[0] if len(contained) == 1 else None


@lru_cache(maxsize=1024)
def _any_word(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for an option's keywords, each as a whole word (a flow holds a few dozen such tuples)."""
    if not keywords:
        return re.compile(r"(?!)")
    return re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keywords) + r")\b")


def _place_turn(
    ctx: Context, session: Session, state: State, match: PlaceMatch, channel: str, doubtful: bool = False,
    notice: str = "",
) -> Turn:
    """Results for a place read from a message, or the question that settles which place it is."""
    flow = ctx.flow
    lang = session.language
    if match.county is not None and doubtful and not match.zip_code:
        # The recogniser was unsure what it heard: confirm the place rather than read the wrong one.
        match = PlaceMatch(candidates=(match.town or match.county,))
    if match.county is not None:
        return _show_results(ctx, session, match.county, channel, match.zip_code or "", match.town, notice)
    if match.candidates:
        return _question(ctx, replace(session, pending=tuple(c.key for c in match.candidates)), channel, notice)
    zip_code = match.zip_code or ""
    said = " ".join(zip_code) if channel == "voice" else zip_code
    unknown = flow.message("zip_unknown", lang, channel).format_map(_Vars(zip=said))
    return replace(_show(ctx, session, session.state, channel, f"{notice} {unknown}".strip()), missed=True)


def _question(ctx: Context, session: Session, channel: str, notice: str = "") -> Turn:
    """Ask which of the pending places (or topics) the person meant ("Did you mean ...?", "Which state?")."""
    flow, lang = ctx.flow, session.language
    topics = [k.removeprefix(TOPIC_PENDING) for k in session.pending if k.startswith(TOPIC_PENDING)]
    if topics:
        labels = [_sentence(flow.topic_label(t, lang)) for t in topics]
        choices = tuple(Choice(str(i), label, label) for i, label in enumerate(labels, 1))
        question = flow.message("which_topic", lang, channel)
        return Turn(session, Reply(ctx.hotlines, text=question, notice=notice, choices=choices, expect="choice"))
    places = _pending_places(ctx, session)
    if len(places) == 1:
        county = _place_name(places[0], channel)
        question = flow.message("did_you_mean", lang, channel).format_map(_Vars(county=county))
        return Turn(session, Reply(ctx.hotlines, text=question, notice=notice, expect="confirm", language=lang))
    towns = [p for p in places if isinstance(p, Town)]
    if len(towns) == len(places) and len({t.name for t in towns}) == 1:
        # One town name in several states: which one, each with its county so the person can tell them apart.
        question = flow.message("which_state", lang, channel).format_map(_Vars(place=towns[0].name))
        choices = tuple(
            Choice(str(i), f"{t.label} ({ctx.places.counties[t.counties[0]].name})", _place_name(t, channel))
            for i, t in enumerate(towns, 1)
        )
        return Turn(session, Reply(ctx.hotlines, text=question, notice=notice, choices=choices, expect="choice"))
    choices = tuple(Choice(str(i), c.label, _place_name(c, channel)) for i, c in enumerate(places, 1))
    question = flow.message("did_you_mean_many", lang, channel)
    return Turn(session, Reply(ctx.hotlines, text=question, notice=notice, choices=choices, expect="choice",
                               language=lang))


def _pending_places(ctx: Context, session: Session) -> list[Place]:
    return [p for k in session.pending if (p := ctx.places.place(k)) is not None]


def _again(ctx: Context, session: Session, channel: str, notice: str = "") -> Turn:
    """Say the current state again, or the open "did you mean" question if there is one."""
    if session.pending:
        return _question(ctx, session, channel, notice)
    return _show(ctx, session, session.state, channel, notice)


def _answer_pending(ctx: Context, session: Session, folded: str, channel: str) -> Turn | None:
    topics = [k.removeprefix(TOPIC_PENDING) for k in session.pending if k.startswith(TOPIC_PENDING)]
    if topics:
        if not (folded.isdigit() and 1 <= int(folded) <= len(topics)):
            return None
        chosen_topic = replace(session, pending=()).with_vars(topic=topics[int(folded) - 1])
        county = ctx.places.counties.get(chosen_topic.vars.get("county", ""))
        if county is not None:
            return _show(ctx, chosen_topic.goto(ctx.flow.results_state), ctx.flow.results_state, channel)
        target = _place_state(ctx.flow) or ctx.flow.start
        return _show(ctx, chosen_topic.goto(target), target, channel)
    counties = _pending_places(ctx, session)
    chosen: Place | None = None
    # On a call a single "did you mean" is answered 1 for yes, 2 for no.
    said_no = folded in NO or (channel == "voice" and len(counties) == 1 and folded == "2")
    if folded in YES and len(counties) == 1:
        chosen = counties[0]
    elif said_no:
        place_state = _place_state(ctx.flow)
        cleared = replace(session, pending=())
        target = place_state or session.state
        return _show(ctx, cleared.goto(target), target, channel)
    elif folded.isdigit() and 1 <= int(folded) <= len(counties):
        chosen = counties[int(folded) - 1]
    if chosen is None:
        return None
    if isinstance(chosen, Town):
        county = ctx.places.counties[chosen.counties[0]]
        return _show_results(ctx, replace(session, pending=()), county, channel, chosen.zip_code, chosen)
    return _show_results(ctx, replace(session, pending=()), chosen, channel)


def _place_state(flow: Flow) -> str | None:
    for state in flow.states.values():
        if state.expect == "place":
            return state.name
    return None


def _show_results(
    ctx: Context, session: Session, county: County, channel: str, zip_code: str = "", town: Town | None = None,
    notice: str = "",
) -> Turn:
    target = ctx.flow.results_state
    moved = _with_place(ctx, session.goto(target), PlaceMatch(county=county, zip_code=zip_code or None, town=town))
    if "topic" not in moved.vars:
        moved = moved.with_vars(topic=DEFAULT_TOPIC)
    return _show(ctx, moved, target, channel, notice)


def _with_place(ctx: Context, session: Session, match: PlaceMatch) -> Session:
    """The session placed: its county, and for a ZIP or a town the point distances are measured from (a town's
    ZIP nearest its centre), the town's name and the other counties it reaches into."""
    assert match.county is not None
    vars_ = {k: v for k, v in session.vars.items() if k not in PLACE_VARS}
    vars_["county"] = match.county.key
    if match.town is not None:
        vars_.update(zip=match.town.zip_code, near=match.town.label)
        if len(match.town.counties) > 1:
            vars_["also"] = ",".join(match.town.counties[1:])
    elif match.zip_code:
        vars_["zip"] = match.zip_code  # a search from a ZIP code measures distances from it
    return replace(session, vars=vars_)


def _show(
    ctx: Context, session: Session, name: str, channel: str, notice: str = "", page: bool = False
) -> Turn:
    """Present a state: its text, its menu, and for the results state the resources."""
    flow = ctx.flow
    state = flow.states[name]
    session = replace(session, state=name).with_vars(**state.sets) if state.sets else replace(session, state=name)
    lang = session.language
    values = _values(ctx, session, channel)
    text = _sentence(state.text.get(lang, flow.default_language).format_map(values))
    speech = _sentence(state.speech.get(lang, flow.default_language).format_map(values)) if state.speech else ""
    choices = tuple(
        Choice(
            o.key_for(channel),
            o.label.get(lang, flow.default_language),
            (o.spoken or o.label).get(lang, flow.default_language),
        )
        for o in _options(state, channel, session)
    )
    reply = Reply(ctx.hotlines, text=text, speech=speech, notice=notice, choices=choices, expect=state.expect,
                  language=lang)
    if state.show != "resources":
        return Turn(replace(session, offset=0), reply)
    county = ctx.places.counties.get(session.vars.get("county", ""))
    if county is None:
        place_state = _place_state(flow) or flow.start
        return _show(ctx, session.goto(place_state), place_state, channel, notice)
    sections = _result_sections(ctx, session, county, channel)
    if not sections[0].resources:
        reply = replace(reply, text="", speech="")
    offset = session.offset if page else 0
    longest_hint = flow.message("more", lang, channel).format_map(_Vars(count="999"))
    reply, shown = fit(replace(reply, sections=sections), channel, ctx.sms_budget, skip=offset, more_hint=longest_hint)
    if page and shown == 0:
        reply = replace(reply, notice=f"{notice} {flow.message('no_more', lang, channel)}".strip())
    if reply.more:
        reply = replace(reply, hint=flow.message("more", lang, channel).format_map(_Vars(count=str(reply.more))))
    return Turn(replace(session, offset=offset + shown), reply)


def _result_sections(ctx: Context, session: Session, county: County, channel: str = "sms") -> tuple[Section, ...]:
    flow, lang = ctx.flow, session.language
    topic = session.vars.get("topic", DEFAULT_TOPIC)
    zip_code = session.vars.get("zip", "")
    if zip_code and ctx.places.zip_to_county.get(zip_code) == county.key:
        result = find_near_zip(ctx.directory, ctx.places, county, zip_code, topic, ctx.zip_radius_miles)
    else:
        result = find_resources(ctx.directory, ctx.places, county, topic)
    values = _values(ctx, session, channel)
    sections: list[Section] = []
    if result.local:
        sections.append(Section("", result.local))
    else:
        sections.append(Section(_sentence(flow.message("no_local", lang, channel).format_map(values)), ()))
        for near in result.nearby:
            title = flow.message("nearby", lang, channel).format_map(
                _Vars(values, county=_place_name(near.county, channel), miles=str(round(near.miles)))
            )
            sections.append(Section(title, near.resources))
    town = session.vars.get("near", "")
    for other_key in filter(None, session.vars.get("also", "").split(",")):
        # A town across a county line: each county's own listings too, nearest the town first.
        other = ctx.places.counties.get(other_key)
        shown = {r.id for s in sections for r in s.resources} | {r.id for r in result.around}
        extra = _also_in(ctx, other, zip_code, topic, shown) if other is not None else ()
        if extra and other is not None:
            title = flow.message("also_in", lang, channel).format_map(
                _Vars(values, place=town.split(",")[0], county=_place_name(other, channel))
            )
            sections.append(Section(title, extra))
    if result.around:
        title = flow.message("within", lang, channel).format_map(
            _Vars(values, miles=f"{result.radius:g}", zip=town or result.zip_code)
        )
        sections.append(Section(title, result.around))
    if result.national:
        sections.append(Section(flow.message("national", lang, channel).format_map(values), result.national))
    return tuple(sections)


def _also_in(ctx: Context, county: County, zip_code: str, topic: str, shown: set[str]) -> tuple[Resource, ...]:
    """`county`'s own listings for someone at `zip_code`, nearest first, less those already shown."""
    origin = ctx.places.zip_point(zip_code)
    if origin is None:
        found = tuple(ctx.directory.services_in_county(county, topic))
    else:
        found = ctx.directory.services_near(county, origin, topic, 0.0, 10).in_county
    return tuple(r for r in found if r.id not in shown and not r.national)


def _place_name(place: Place, channel: str) -> str:
    """`Volusia County, FL` in a text; `Volusia County, Florida` aloud (a caller should not hear "F L")."""
    if channel == "voice":
        return f"{place.name}, {_STATE_NAMES.get(place.state, place.state)}"
    return place.label


def _sentence(text: str) -> str:
    """Capitalise a sentence that starts with a placeholder ("local peer support in ...")."""
    return text[:1].upper() + text[1:]


class _Vars(dict[str, str]):
    """Template values; a name no state has set yet reads as empty rather than failing mid-conversation."""

    def __missing__(self, key: str) -> str:
        return ""


def _values(ctx: Context, session: Session, channel: str = "sms") -> _Vars:
    flow, lang = ctx.flow, session.language
    county = ctx.places.counties.get(session.vars.get("county", ""))
    h = ctx.hotlines.in_language(lang)
    if channel == "voice":
        hotline, samhsa = spoken_line(h.hotline_name, h.hotline, lang), spoken_line(h.samhsa_name, h.samhsa, lang)
    else:
        hotline, samhsa = f"{h.hotline_name} {h.hotline.text}", f"{h.samhsa_name} {h.samhsa.text}"
    return _Vars(
        program=h.program,
        topic=flow.topic_label(session.vars.get("topic", DEFAULT_TOPIC), lang),
        county=_place_name(county, channel) if county else "",
        hotline=hotline,
        samhsa=samhsa,
    )


def fallback_reply(hotlines: Hotlines, notice: str = "", language: str = "en") -> Reply:
    """The reply when something inside has failed: still the hotlines, always (named in `language`)."""
    return Reply(hotlines, notice=notice, expect="none", tags=("degraded",), language=language)
