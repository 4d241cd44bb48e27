"""The flow engine: (context, session, inbound message) -> (new session, reply), for texts and calls alike.

Order of reading a message, in every state: global words (MENU, BACK, HELP), paging (MORE), an open
"did you mean" question, the state's own options, and then a county or ZIP, which works anywhere.
The engine never formats for a channel; `render` does, and the hotlines ride on every `Reply`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.core.directory import County, Directory
from bot.core.flow import GLOBAL_WORDS, Flow, Option, State
from bot.core.places import Gazetteer, PlaceMatch
from bot.core.render import fit
from bot.core.reply import Choice, Hotlines, Reply, Section
from bot.core.safety import CrisisScreen
from bot.core.search import ZIP_RADIUS_MILES, find_near_zip, find_resources
from bot.core.session import Session
from bot.core.text import fold

YES = {"yes", "y", "yeah", "yep", "yup", "si", "correct", "right", "ok", "okay"}
NO = {"no", "n", "nope", "nah", "wrong"}
MORE = {"more", "next", "mas"}
DEFAULT_TOPIC = "peer-support"
_GLOBAL = {word: action for action, words in GLOBAL_WORDS.items() for word in words}


@dataclass(frozen=True)
class Inbound:
    """One thing the person did: a text, a spoken phrase, or keys pressed on a call."""

    text: str = ""
    channel: str = "sms"
    digits: str = ""


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


@dataclass(frozen=True)
class Turn:
    """The engine's answer: where the conversation now stands and what to say."""

    session: Session
    reply: Reply


def new_session(flow: Flow, language: str | None = None) -> Session:
    """A conversation at the flow's start."""
    lang = language if language in flow.languages else flow.default_language
    return Session(flow=flow.name, state=flow.start, language=lang)


def step(ctx: Context, session: Session | None, inbound: Inbound, *, returning: bool = False) -> Turn:
    """Advance one conversation by one message."""
    flow = ctx.flow
    said = inbound.digits or inbound.text
    crisis = _crisis_turn(ctx, session, inbound)
    if crisis is not None:
        return crisis
    folded = fold(said) if not inbound.digits else inbound.digits.strip()
    if session is None or session.flow != flow.name or session.state not in flow.states:
        vanished = session is not None and session.flow == flow.name
        language = session.language if session is not None else None
        fresh = new_session(flow, language)
        greeting = flow.message("welcome_back", fresh.language) if (returning or vanished) else ""
        turn = _read(ctx, fresh, folded, inbound.channel) if folded else None
        if turn is None:
            turn = _show(ctx, fresh, flow.start, inbound.channel)
        turn = _with_notice(turn, greeting, first=True)
    else:
        turn = _read(ctx, session, folded, inbound.channel)
        if turn is None:
            turn = _show(ctx, session, session.state, inbound.channel, flow.message("not_understood", session.language))
    return replace(turn, session=replace(turn.session, turns=turn.session.turns + 1))


def _crisis_turn(ctx: Context, session: Session | None, inbound: Inbound) -> Turn | None:
    """Danger named in any state is answered first; the session stays where it was."""
    if ctx.crisis is None or not inbound.text:
        return None
    match = ctx.crisis.match(inbound.text)
    if match is None:
        return None
    kept = session
    if kept is None or kept.flow != ctx.flow.name or kept.state not in ctx.flow.states:
        kept = new_session(ctx.flow, kept.language if kept is not None else None)
    text = ctx.crisis.answer(match, kept.language, inbound.channel)
    reply = Reply(ctx.hotlines, text=text, crisis=True, expect="none", tags=(f"crisis:{match.category}",))
    return Turn(replace(kept, turns=kept.turns + 1), reply)


def _with_notice(turn: Turn, notice: str, first: bool = False) -> Turn:
    if not notice:
        return turn
    joined = f"{notice} {turn.reply.notice}".strip() if first else f"{turn.reply.notice} {notice}".strip()
    return replace(turn, reply=replace(turn.reply, notice=joined))


def _read(ctx: Context, session: Session, folded: str, channel: str) -> Turn | None:
    """Interpret a folded message in the session's state; None when it means nothing here."""
    flow = ctx.flow
    state = flow.states[session.state]
    action = _GLOBAL.get(folded)
    if action == "menu":
        return _show(ctx, replace(session, history=(), pending=(), offset=0, state=flow.start), flow.start, channel)
    if action == "back":
        if not session.history:
            return _show(ctx, session, session.state, channel, flow.message("at_start", session.language))
        previous = session.back()
        return _show(ctx, previous, previous.state, channel)
    if action == "help":
        help_text = flow.message("help", session.language).format_map(_values(ctx, session))
        return _show(ctx, session, session.state, channel, help_text)
    if folded in MORE and state.show == "resources":
        return _show(ctx, session, session.state, channel, page=True)
    if session.pending:
        answered = _answer_pending(ctx, session, folded, channel)
        if answered is not None:
            return answered
        session = replace(session, pending=())
    option = _pick_option(state, folded, session.language, channel)
    if option is not None:
        moved = session.goto(option.goto).with_vars(**option.sets)
        return _show(ctx, moved, option.goto, channel)
    if folded and not (folded.isdigit() and len(folded) < 5):
        return _read_place(ctx, session, state, folded, channel)
    return None


def _pick_option(state: State, folded: str, language: str, channel: str) -> Option | None:
    options = state.options_for(channel)
    for o in options:
        if folded == o.key:
            return o
    for o in options:
        if folded in o.keywords.get(language, ()):
            return o
    contained = [
        o
        for o in options
        if any(re.search(rf"\b{re.escape(k)}\b", folded) for k in o.keywords.get(language, ()))
    ]
    return contained[0] if len(contained) == 1 else None


def _read_place(ctx: Context, session: Session, state: State, folded: str, channel: str) -> Turn | None:
    flow = ctx.flow
    topic = session.vars.get("topic", DEFAULT_TOPIC)
    match: PlaceMatch = ctx.places.resolve(folded, ctx.prefer_states, ctx.directory.counties_served(topic))
    lang = session.language
    if match.county is not None:
        return _show_results(ctx, session, match.county, channel, match.zip_code or "")
    if match.candidates:
        pending = tuple(c.key for c in match.candidates)
        asking = replace(session, pending=pending)
        if len(match.candidates) == 1:
            question = flow.message("did_you_mean", lang).format_map(_Vars(county=match.candidates[0].label))
            return Turn(asking, Reply(ctx.hotlines, text=question, expect="confirm"))
        choices = tuple(Choice(str(i), c.label, c.label) for i, c in enumerate(match.candidates, 1))
        question = flow.message("did_you_mean_many", lang)
        return Turn(asking, Reply(ctx.hotlines, text=question, choices=choices, expect="choice"))
    if match.zip_unknown:
        notice = flow.message("zip_unknown", lang).format_map(_Vars(zip=match.zip_code or ""))
        return _show(ctx, session, session.state, channel, notice)
    if state.expect == "place":
        return _show(ctx, session, session.state, channel, flow.message("place_unknown", lang))
    return None


def _answer_pending(ctx: Context, session: Session, folded: str, channel: str) -> Turn | None:
    counties = [ctx.places.counties[k] for k in session.pending if k in ctx.places.counties]
    chosen: County | None = None
    if folded in YES and len(counties) == 1:
        chosen = counties[0]
    elif folded.isdigit() and 1 <= int(folded) <= len(counties):
        chosen = counties[int(folded) - 1]
    elif folded in NO:
        place_state = _place_state(ctx.flow)
        cleared = replace(session, pending=())
        target = place_state or session.state
        return _show(ctx, cleared.goto(target), target, channel)
    if chosen is None:
        return None
    return _show_results(ctx, replace(session, pending=()), chosen, channel)


def _place_state(flow: Flow) -> str | None:
    for state in flow.states.values():
        if state.expect == "place":
            return state.name
    return None


def _show_results(ctx: Context, session: Session, county: County, channel: str, zip_code: str = "") -> Turn:
    vars_ = {"county": county.key, "zip": zip_code}
    if "topic" not in session.vars:
        vars_["topic"] = DEFAULT_TOPIC
    target = ctx.flow.results_state
    return _show(ctx, session.goto(target).with_vars(**vars_), target, channel)


def _show(
    ctx: Context, session: Session, name: str, channel: str, notice: str = "", page: bool = False
) -> Turn:
    """Present a state: its text, its menu, and for the results state the resources."""
    flow = ctx.flow
    state = flow.states[name]
    session = replace(session, state=name).with_vars(**state.sets) if state.sets else replace(session, state=name)
    lang = session.language
    values = _values(ctx, session)
    text = _sentence(state.text.get(lang, flow.default_language).format_map(values))
    speech = _sentence(state.speech.get(lang, flow.default_language).format_map(values)) if state.speech else ""
    choices = tuple(
        Choice(
            o.key,
            o.label.get(lang, flow.default_language),
            (o.spoken or o.label).get(lang, flow.default_language),
        )
        for o in state.options_for(channel)
    )
    reply = Reply(ctx.hotlines, text=text, speech=speech, notice=notice, choices=choices, expect=state.expect)
    if state.show != "resources":
        return Turn(replace(session, offset=0), reply)
    county = ctx.places.counties.get(session.vars.get("county", ""))
    if county is None:
        place_state = _place_state(flow) or flow.start
        return _show(ctx, session.goto(place_state), place_state, channel, notice)
    sections = _result_sections(ctx, session, county)
    if not sections[0].resources:
        reply = replace(reply, text="")
    offset = session.offset if page else 0
    reply, shown = fit(replace(reply, sections=sections), channel, ctx.sms_budget, skip=offset)
    if page and shown == 0:
        reply = replace(reply, notice=f"{notice} {flow.message('no_more', lang)}".strip())
    if reply.more:
        reply = replace(reply, hint=flow.message("more", lang).format_map(_Vars(count=str(reply.more))))
    return Turn(replace(session, offset=offset + shown), reply)


def _result_sections(ctx: Context, session: Session, county: County) -> tuple[Section, ...]:
    flow, lang = ctx.flow, session.language
    topic = session.vars.get("topic", DEFAULT_TOPIC)
    zip_code = session.vars.get("zip", "")
    if zip_code and ctx.places.zip_to_county.get(zip_code) == county.key:
        result = find_near_zip(ctx.directory, ctx.places, county, zip_code, topic, ctx.zip_radius_miles)
    else:
        result = find_resources(ctx.directory, ctx.places, county, topic)
    values = _values(ctx, session)
    sections: list[Section] = []
    if result.local:
        sections.append(Section("", result.local))
    else:
        sections.append(Section(_sentence(flow.message("no_local", lang).format_map(values)), ()))
        for near in result.nearby:
            title = flow.message("nearby", lang).format_map(
                _Vars(values, county=near.county.label, miles=str(round(near.miles)))
            )
            sections.append(Section(title, near.resources))
    if result.around:
        title = flow.message("within", lang).format_map(
            _Vars(values, miles=f"{result.radius:g}", zip=result.zip_code)
        )
        sections.append(Section(title, result.around))
    if result.national:
        sections.append(Section(flow.message("national", lang).format_map(values), result.national))
    return tuple(sections)


def _sentence(text: str) -> str:
    """Capitalise a sentence that starts with a placeholder ("local peer support in ...")."""
    return text[:1].upper() + text[1:]


class _Vars(dict[str, str]):
    """Template values; a name no state has set yet reads as empty rather than failing mid-conversation."""

    def __missing__(self, key: str) -> str:
        return ""


def _values(ctx: Context, session: Session) -> _Vars:
    flow, lang = ctx.flow, session.language
    county = ctx.places.counties.get(session.vars.get("county", ""))
    h = ctx.hotlines
    return _Vars(
        program=h.program,
        topic=flow.topic_label(session.vars.get("topic", DEFAULT_TOPIC), lang),
        county=county.label if county else "",
        hotline=f"{h.hotline_name} {h.hotline.text}",
        samhsa=f"{h.samhsa_name} {h.samhsa.text}",
    )


def fallback_reply(hotlines: Hotlines, notice: str = "") -> Reply:
    """The reply when something inside has failed: still the hotlines, always."""
    return Reply(hotlines, notice=notice, expect="none", tags=("degraded",))
