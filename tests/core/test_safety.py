"""The crisis screen: each reading rule with the ordinary sentence that must not trigger it, the pattern syntax and
its problems, the folding of what people cannot see, and the answer it gives, in any state."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.core.engine import Context, Inbound, step
from bot.core.flows import FlowError
from bot.core.render import sms_text
from bot.core.safety import CrisisScreen, load_crisis, normalise, parse_crisis
from bot.core.text import fold

CRISIS = PROJECT_ROOT / "flows" / "crisis.yaml"


@pytest.fixture(scope="module")
def screen() -> CrisisScreen:
    return load_crisis(CRISIS)


@pytest.mark.parametrize(
    ("text", "category", "overdose"),
    [
        ("I want to kill myself", "self_harm", False),
        ("i just want to END IT ALL", "self_harm", False),
        ("there's no reason to live anymore", "self_harm", False),
        ("I want to die", "self_harm", False),
        ("my brother overdosed", "overdose", True),
        ("I think she took too many pills", "overdose", True),
        ("he OD'd", "overdose", True),
        ("he od\u2019d last night", "overdose", True),
        ("I can't wake him up", "overdose", True),
        ("cant wake her up!!!", "overdose", True),
        ("he's going to kill me", "harm_to_others", False),
        ("quiero morir", "self_harm", False),
        ("creo que es una sobredosis", "overdose", True),
        ("I'm suicidal and need a meeting", "self_harm", False),
    ],
)
def test_danger_is_recognised(screen: CrisisScreen, text: str, category: str, overdose: bool) -> None:
    match = screen.match(text)
    assert match is not None and match.category == category and match.overdose is overdose


@pytest.mark.parametrize(
    "text",
    [
        "I'm dying to go to a meeting",
        "I killed it at my interview",
        "that's odd",
        "volusia",
        "menu",
        "Is there a suicide prevention walk?",
        "Narcan training tonight?",
        "I need help with food",
        "",
        "odd hours at work",
    ],
)
def test_figures_of_speech_do_not_trigger(screen: CrisisScreen, text: str) -> None:
    assert screen.match(text) is None


# Each rule, the statement it must hear, and the ordinary sentence beside it that it must not.
RULES = [
    # rule, heard, (level), not heard
    ("passive death wish", "i wish i could sleep and never wake up", "support", "i hope i wake up on time tomorrow"),
    ("hopelessness with intent", "what's the point anymore", "support", "what's the point of this meeting?"),
    ("being a burden", "they'd be better off without me", "support", "they'd be better off taking the bus"),
    ("preparation: pills", "i've been saving up my pills", "emergency", "i'm saving up for my medication"),
    ("preparation: a note", "i wrote a goodbye letter", "emergency", "i wrote a letter to my landlord"),
    ("preparation: giving away", "i'm giving away all my stuff", "emergency", "i'm giving away kittens"),
    ("method: a bridge", "thinking about jumping off the bridge", "emergency", "bridge club is on thursdays"),
    ("method: a gun", "i have a gun and i want to end it", "emergency", "my uncle collects guns"),
    ("method: a rope", "i tied a noose", "emergency", "i need a jump rope for my kid"),
    ("method: pills", "im going to take all my pills tonight", "emergency", "i take all my pills in the morning"),
    ("self-harm: cutting", "i started cutting again", "emergency", "i'm cutting back on drinking"),
    ("self-harm: cutting", "i cut myself on purpose", "emergency", "i cut myself shaving"),
    ("self-harm: burning", "been burning myself with a lighter", "emergency", "I burned myself cooking dinner"),
    ("slang", "kms", "emergency", "kmsl that meme"),
    ("slang", "i want to unalive myself", "emergency", "the show was alive with music"),
    ("slang", "i just want to end it all", "emergency", "i want to end it with my boyfriend"),
    ("missing apostrophes", "i dont want to live", "emergency", "i dont want to drink"),
    ("negation flips it", "I don't want to live anymore", "emergency", "I don't want to die, I want help quitting"),
    ("spelling slips", "i wanna kil myslef", "emergency", "i want to kill some time"),
    ("letters typed as digits", "su1c1de", "emergency", "m30s are everywhere here, need a meeting"),
    ("overdose: breathing", "he's not breathing", "emergency", "i'm breathing better since i quit smoking"),
    ("overdose: won't wake", "she won't wake up", "emergency", "my alarm won't wake me up"),
    ("overdose: won't wake", "she won't wake up", "emergency", "i hope the kids don't wake up"),
    ("overdose: won't respond", "he's not responding, he did fent", "emergency", "he doesn't respond to my texts"),
    ("overdose: blue lips", "his lips are turning blue", "emergency", "she painted her nails blue"),
    ("overdose: gurgling", "he's making a gurgling sound", "emergency", "the sink is gurgling again"),
    ("overdose: snoring", "she's snoring weird and i cant wake her", "emergency", "my husband snores loud"),
    ("overdose: a named drug", "he took too many percs", "emergency", "he took too many days off"),
    ("overdose: a number", "i took 30 of my sleeping pills", "emergency", "i took 10 mg of my meds"),
    ("overdose: chest pain", "chest pain after using coke", "emergency", "chest pain after the gym"),
    ("overdose: a seizure", "he's having a seizure after smoking meth", "emergency", "my son had a seizure in 2019"),
    ("overdose: naloxone given", "i gave him narcan and he's still not breathing", "emergency", "can I buy Narcan?"),
    ("overdose: naloxone given", "I gave her narcan", "emergency", "how do i use naloxone"),
    ("es: direct", "me voy a matar", "emergency", "me voy a morir de la risa"),
    ("es: 'q' for 'que'", "q sentido tiene vivir", "support", "q onda, a q hora es la junta"),
    ("es: without accents", "ojala no despertara manana", "support", "ojala no llueva manana"),
    ("es: burden", "mi familia estaria mejor sin mi", "support", "mi familia estaria mejor en otra casa"),
    ("es: preparation", "ya escribi mi carta de despedida", "emergency", "escribi una carta a mi abuela"),
    ("es: cutting", "me corto los brazos otra vez", "emergency", "me corte el pelo ayer"),
    ("es: overdose", "mi amigo no respira", "emergency", "mi amigo no responde mis mensajes"),
    ("es: overdose", "tomo demasiadas pastillas", "emergency", "tome mucho anoche y me siento mal"),
    ("es: idioms", "me quiero morir", "emergency", "muerto de cansancio"),
    ("es: naloxone", "le di narcan y sigue sin respirar", "emergency", "donde consigo narcan"),
    ("someone else's danger", "my sister says she wants to kill herself", "emergency", "she hurt herself at soccer"),
    ("searching how many", "i googled how much it would take", "emergency", "i googled how much rehab costs"),
    ("goodbye to family", "i texted goodbye to my family tonight", "emergency", "said goodbye to my kids before work"),
    ("method in hand", "the pistol is in my hand", "emergency", "i keep the gun in a gun safe"),
    ("preparation: stashed pills", "ive got my xanax stashed", "emergency", "i keep my xanax in the cabinet"),
    ("a wished-for accident", "i hope a truck hits me", "support", "i hope my boss doesnt kill me"),
    ("not long for this world", "i wont be a burden to anyone for long", "emergency", "i wont be at group for long"),
    ("overdose: a child into medicine", "my toddler swallowed my suboxone", "emergency", "my toddler ate my lunch"),
    ("overdose: seizure-like", "shes twitching after smoking spice", "emergency", "i shake since i stopped drinking"),
    ("overdose: blue and cold", "hes turned blue and cold", "emergency", "she feels blue and cold since the divorce"),
    ("overdose: mixed, sedated", "mixed xanax and vodka and can barely keep my eyes open", "emergency",
     "is it dangerous to mix xanax and alcohol"),
    ("overdose: a question, not one happening", "i think hes overdosing", "emergency",
     "how do i know if someone is overdosing"),
    ("overdose: grief, not one happening", "my brother overdosed", "emergency", "lost my son to an overdose in 2019"),
    ("es: someone else's danger", "mi tio dice que se va a matar", "emergency", "se va a pegar con la puerta"),
    ("es: goodbye to family", "ya me despedi de mi familia", "emergency", "bueno me despido de todos, gracias"),
    ("es: a wished-for death", "ojala un carro me atropellara", "support", "que dios me lleve con bien en el viaje"),
    ("es: in the way", "siento que sobro en mi casa", "support", "siento que sobra comida"),
    ("es: overdose", "mi abuelo no esta respirando", "emergency", "no esta respondiendo mis mensajes"),
    ("es: overdose, grief", "creo que tiene una sobredosis", "emergency", "mi tio murio de sobredosis hace dos anos"),
]


@pytest.mark.parametrize(("rule", "heard", "level", "ordinary"), RULES, ids=[f"{r[0]}: {r[1]}" for r in RULES])
def test_each_rule_hears_its_statement_and_not_the_ordinary_one(
    screen: CrisisScreen, rule: str, heard: str, level: str, ordinary: str
) -> None:
    match = screen.match(heard)
    assert match is not None, f"{rule}: {heard!r} was not heard"
    assert match.level == level, f"{rule}: {heard!r} read as {match}"
    assert match.phrase, "the match names the pattern that heard it"
    assert screen.match(ordinary) is None, f"{rule}: {ordinary!r} read as {screen.match(ordinary)}"


@pytest.mark.parametrize(
    "question",
    [
        "can I buy Narcan at a pharmacy?",
        "where do I get narcan",
        "how do I use naloxone",
        "fentanyl test strips near me",
        "is narcan free?",
        "donde venden naloxona",
        "naloxone",
        "narcan",
    ],
)
def test_a_question_about_naloxone_is_not_an_overdose(screen: CrisisScreen, question: str) -> None:
    assert screen.match(question) is None


@pytest.mark.parametrize(
    "text", ["he's turning blue", "she won't wake up", "I gave him narcan and he's still not breathing"]
)
def test_an_overdose_happening_is_still_heard_beside_naloxone(screen: CrisisScreen, text: str) -> None:
    match = screen.match(text)
    assert match is not None and match.overdose


def test_the_match_says_which_pattern_heard_it(screen: CrisisScreen) -> None:
    match = screen.match("i really want to end it")
    assert match is not None
    assert match.phrase == "(want|going|ready|plan|planning|decided|need|trying) to ~2 end it"
    assert match.language == "en"


# -- what no one can see ----------------------------------------------------------------------------------------

UNSEEN = [
    ("ki\u200bll myself", "kill myself"),  # zero-width space
    ("ki\u200cll my\u200dself", "kill myself"),  # zero-width non-joiner and joiner
    ("kill\u2060 myself", "kill myself"),  # word joiner
    ("\ufeffkill myself", "kill myself"),  # byte-order mark
    ("sui\u00adcide", "suicide"),  # soft hyphen
    ("\u202ekill myself\u202c", "kill myself"),  # bidi override and pop
    ("\u200fkill\u200e myself", "kill myself"),  # right-to-left and left-to-right marks
    ("\u2066kill myself\u2069", "kill myself"),  # bidi isolates
    ("\uff4b\uff49\uff4c\uff4c \uff4d\uff59\uff53\uff45\uff4c\uff46", "kill myself"),  # full-width letters
    ("\U0001d424\U0001d422\U0001d425\U0001d425 myself", "kill myself"),  # mathematical bold letters
    ("k\u0456ll mys\u0435lf", "kill myself"),  # Cyrillic i and e among Latin letters
    ("kill myself\ufe0f", "kill myself"),  # a variation selector
]


@pytest.mark.parametrize(("text", "seen"), UNSEEN)
def test_fold_reads_what_a_person_sees(text: str, seen: str) -> None:
    assert fold(text) == seen


@pytest.mark.parametrize(("text", "seen"), UNSEEN)
def test_normalise_reads_what_a_person_sees(text: str, seen: str) -> None:
    assert normalise(text) == f" {seen} "


@pytest.mark.parametrize(("text", "_seen"), UNSEEN)
def test_hidden_characters_do_not_hide_a_crisis(screen: CrisisScreen, text: str, _seen: str) -> None:
    assert screen.match(text) is not None


def test_fold_keeps_what_it_kept() -> None:
    assert fold("  St. Johns!! ") == "st johns"
    assert fold("Peña & Sons") == "pena and sons"


# -- the pattern syntax --------------------------------------------------------------------------------------------

HEAD = """
languages: [en, es]
spellings:
  want to: [wanna]
  do not: [dont]
lists:
  drug: [fentanyl, fent, perc*]
categories:
  test:
    level: emergency
    phrases:
      en:
"""
REPLIES = """
replies:
  emergency: {en: "Call 911 now.", es: "Llame al 911."}
  overdose: {en: "Call 911 now.", es: "Llame al 911."}
  support: {en: "Call or text 988.", es: "Llame al 988, texto AYUDA."}
  go_on: {en: "Reply MENU.", es: "Responda MENU."}
  go_on_voice: {en: "Press 0.", es: "Marque 0."}
"""


def one_pattern(pattern: str, cut: str = "") -> CrisisScreen:
    cuts = f"except:\n  en: [{cut!r}]\n" if cut else ""
    return parse_crisis(HEAD + f"        - {pattern!r}\n" + cuts + REPLIES, "test.yaml")


@pytest.mark.parametrize(
    ("pattern", "heard", "not_heard"),
    [
        ("kill myself", "I want to KILL myself!!", "kill my time"),
        ("want to ~ die", "i want to just fucking die", "i want to go to the beach and die laughing"),
        ("want to ~1 die", "i want to really die", "i want to go and die"),
        ("(pills|meds) ready", "got my meds ready", "got my shoes ready"),
        ("[really] want out", "i really want out", "i want to go out"),
        ("cut* myself", "cutting myself", "i cut my hair myself"),
        ("took * pills", "took my pills", "took pills"),
        ("took <number> pills", "took 40 pills", "took 2 pills"),
        ("took @drug", "took percocets", "took perfume"),
        ("going to jump $", "i'm going to jump!", "i'm going to jump in the pool"),
        ("dont want to live", "I do not want to live", "I don't want to drink"),
        ("want to die", "i wanna die", "i want a dinner"),
        ("kill myself", "killll myself", "kiss myself"),
        ("kill myself", "kil myself", "kit myself"),
        ("overdosing", "overdsoing", "overseeing"),
    ],
)
def test_the_pattern_syntax(pattern: str, heard: str, not_heard: str) -> None:
    screen = one_pattern(pattern)
    assert screen.match(heard) is not None
    assert screen.match(not_heard) is None


def test_an_exception_cuts_only_what_it_matches() -> None:
    screen = one_pattern("want to die", cut="dying to")
    assert screen.match("i'm dying to see you") is None
    assert screen.match("i'm dying to see you but i want to die") is not None
    assert one_pattern("want to die", cut="want to").match("i want to die") is None  # cut words are gone
    assert one_pattern("hurt myself", cut="cut myself shaving").match("cut myself shaving hurt myself") is not None


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(pills|meds ready", "`(` is not closed with `)`"),
        ("(pills|(meds)) ready", "groups cannot be nested"),
        ("(pills|) ready", "an empty choice"),
        ("~ die", "`~` must stand between two words"),
        ("die ~", "`~` must stand between two words"),
        ("want ~12 die", "a gap is 1 to 9 words"),
        ("took @drugs", "unknown list '@drugs'"),
        ("[really] *", "needs at least one word"),
        ("die $ now", "can only end a pattern"),
        ("k*ll", "is not a word"),
        ("pills ) ready", "a stray `)`"),
    ],
)
def test_a_bad_pattern_is_refused_at_its_line(pattern: str, problem: str) -> None:
    with pytest.raises(FlowError) as caught:
        one_pattern(pattern)
    messages = [str(p) for p in caught.value.problems]
    line = HEAD.count("\n") + 1
    assert any(m.startswith(f"test.yaml:{line}: category 'test'.en: ") and problem in m for m in messages), messages


def test_an_unquoted_pattern_that_yaml_reads_as_a_list_is_refused() -> None:
    with pytest.raises(FlowError, match=r"test.yaml:\d+: category 'test'.en: not a line of text"):
        parse_crisis(HEAD + "        - [really]\n" + REPLIES, "test.yaml")
    with pytest.raises(FlowError, match=r"test.yaml:\d+: not valid YAML"):
        parse_crisis(HEAD + "        - [really] want out\n" + REPLIES, "test.yaml")


# -- the answer ----------------------------------------------------------------------------------------------------


def test_ambiguous_distress_gets_988_but_not_911(context: Context) -> None:
    turn = step(context, None, Inbound(text="I feel hopeless"))
    text = sms_text(turn.reply)
    assert "988" in text and "741741" in text
    assert "911 now" not in text


def test_overdose_answer_puts_911_and_naloxone_first(context: Context) -> None:
    turn = step(context, None, Inbound(text="I can't wake him up"))
    text = sms_text(turn.reply)
    assert text.startswith("Possible overdose: call 911 now. Give naloxone (Narcan)")
    assert "Veterans press 1" in text and "AYUDA" in text and "HOME to 741741" in text
    assert "(800) 539-4228" in text and "1-800-662-HELP (4357)" in text


def test_a_question_about_naloxone_goes_on_to_the_menu(context: Context) -> None:
    turn = step(context, None, Inbound(text="where do I get narcan"))
    assert not any(tag.startswith("crisis:") for tag in turn.reply.tags)


@pytest.mark.parametrize("state_path", [[], ["hi"], ["hi", "3"], ["hi", "1"], ["volusia"], ["st jon"]])
def test_crisis_is_answered_in_every_state_and_the_menu_goes_on(context: Context, state_path: list[str]) -> None:
    session = None
    for message in state_path:
        session = step(context, session, Inbound(text=message)).session
    before = session.state if session else context.flow.start
    turn = step(context, session, Inbound(text="i want to kill myself"))
    assert turn.reply.crisis
    assert "call 911 now" in sms_text(turn.reply)
    assert turn.session.state == before
    after = step(context, turn.session, Inbound(text="menu"))
    assert after.session.state == "welcome"


def test_an_indirect_statement_is_answered_before_the_menu(context: Context) -> None:
    session = step(context, None, Inbound(text="hi")).session
    turn = step(context, session, Inbound(text="i wish i could sleep and never wake up"))
    assert turn.reply.crisis and "988" in sms_text(turn.reply)
    assert turn.session.state == session.state


def test_voice_crisis_offers_the_24_7_line(context: Context) -> None:
    turn = step(context, None, Inbound(text="I want to end my life", channel="voice"))
    assert "press 0" in turn.reply.text


def test_a_spoken_overdose_is_heard_on_a_call(context: Context) -> None:
    turn = step(context, None, Inbound(text="my friend is not breathing", channel="voice"))
    assert turn.reply.crisis and "911" in turn.reply.text


def test_a_crisis_file_without_988_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "crisis.yaml"
    text = CRISIS.read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith('en: "You don'))
    broken.write_text(text.replace(line, '    en: "Call us any time."'))
    with pytest.raises(FlowError, match=r"crisis.yaml:\d+: replies.support.en must name 988"):
        load_crisis(broken)


def test_a_bad_pattern_in_the_shipped_file_is_reported_at_its_line(tmp_path: Path) -> None:
    text = CRISIS.read_text()
    lines = text.splitlines()
    at = lines.index("        - kill* myself")
    lines[at] = "        - kill* (myself"
    broken = tmp_path / "crisis.yaml"
    broken.write_text("\n".join(lines) + "\n")
    with pytest.raises(FlowError, match=rf"crisis.yaml:{at + 1}: category 'self_harm'.en: .*is not closed"):
        load_crisis(broken)


def test_no_county_name_is_read_as_a_crisis(screen: CrisisScreen, context: Context) -> None:
    # People answer "which county?" with names like Wake, Hope, Blue Earth or Gunnison.
    read = [c.label for c in context.places.counties.values() if screen.match(c.label) is not None]
    assert read == []
