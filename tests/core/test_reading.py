"""Reading what people write: each rule with the ordinary sentence that must not trigger it."""

from __future__ import annotations

import pytest

from bot.core.engine import Context
from bot.core.places import Gazetteer
from bot.core.reading import Reading, read_words
from bot.core.text import fold

PREFER = (("FL",), ("OH",))
SERVED = frozenset({"FL:volusia county", "FL:flagler county", "FL:st. johns county", "FL:putnam county",
                    "FL:marion county", "OH:cuyahoga county"})  # fmt: skip


def read(context: Context, text: str) -> Reading:
    return read_words(context.flow, context.places, fold(text), "en", PREFER, lambda topic: SERVED)


@pytest.mark.parametrize(
    ("text", "town", "county"),
    [
        ("Port Orange", "Port Orange, FL", "Volusia County, FL"),
        ("pt. orange", "Port Orange, FL", "Volusia County, FL"),
        ("Flagler Beach", "Flagler Beach, FL", "Flagler County, FL"),
        ("flagler bch", "Flagler Beach, FL", "Flagler County, FL"),
        ("Interlachen", "Interlachen, FL", "Putnam County, FL"),
        ("silver spgs", "Silver Springs, FL", "Marion County, FL"),
        ("ft lauderdale", "Fort Lauderdale, FL", "Broward County, FL"),
        ("mt dora", "Mount Dora, FL", "Lake County, FL"),
        ("st augustine", "Saint Augustine, FL", "St. Johns County, FL"),
        ("Akron, Ohio", "Akron, OH", "Summit County, OH"),
        ("akron", "Akron, OH", "Summit County, OH"),  # not in the home state: the states with listings next
        ("Lake City FL", "Lake City, FL", "Columbia County, FL"),
        ("I'm staying in Port Orange now", "Port Orange, FL", "Volusia County, FL"),
        ("near flagler beach please", "Flagler Beach, FL", "Flagler County, FL"),
        ("we live outside of palatka", "Palatka, FL", "Putnam County, FL"),
        ("port ornage", "Port Orange, FL", "Volusia County, FL"),  # a typo, forgiven within the home states
        ("I live in sunrise", "Sunrise, FL", "Broward County, FL"),  # an ordinary word after a strong cue
        ("I live in Hope, Arkansas", "Hope, AR", "Hempstead County, AR"),
        ("we're in Hope AR", "Hope, AR", "Hempstead County, AR"),
    ],
)
def test_a_town_resolves_to_its_county(places: Gazetteer, text: str, town: str, county: str) -> None:
    match = places.resolve(text, PREFER, SERVED)
    assert match.town is not None and match.town.label == town, match
    assert match.county is not None and match.county.label == county


@pytest.mark.parametrize(
    "text",
    [
        "hope",  # a town in several states, and an ordinary word: alone it is not a place
        "sunrise",
        "there is no hope",
        "I have hope again",
        "wish I could sleep and never wake up",  # Wake County needs "county" or a place cue
        "my friend mercer is using",  # Mercer County, inside a sentence with no cue
        "I am a person in recovery",  # Person County
        "I'm in pain",
        "any AA near me?",
        "I need help in the morning",
        "I work nights",
        "my brother won't stop drinking",
    ],
)
def test_an_ordinary_word_does_not_hijack_a_sentence(places: Gazetteer, text: str) -> None:
    match = places.resolve(text, PREFER, SERVED)
    assert match.county is None and not match.candidates, match


def test_a_county_name_with_county_counts_anywhere(places: Gazetteer) -> None:
    match = places.resolve("is there anything putnam county has", PREFER, SERVED)
    assert match.county is not None and match.county.label == "Putnam County, FL"
    assert places.resolve("wake county please", PREFER, SERVED).county == places.counties["NC:wake county"]


def test_a_county_alone_still_wins_over_a_town_of_that_name(places: Gazetteer) -> None:
    match = places.resolve("marion", PREFER, SERVED)
    assert match.county is not None and match.county.label == "Marion County, FL" and match.town is None


def test_a_town_in_several_states_outside_the_home_ones_is_a_question(places: Gazetteer) -> None:
    match = places.resolve("I live in Hope", PREFER, SERVED)
    assert match.county is None
    assert len(match.candidates) >= 2 and all(c.name == "Hope" for c in match.candidates)
    assert len({c.state for c in match.candidates}) == len(match.candidates)


def test_a_town_across_a_county_line_knows_each_county(places: Gazetteer) -> None:
    match = places.resolve("palatka", PREFER, SERVED)
    assert match.town is not None and match.town.counties == ("FL:putnam county", "FL:marion county")
    assert places.place(match.town.key) == match.town


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("my son is using", ["family"]),
        ("my wife drinks", ["family"]),
        ("my brother won't stop drinking", ["family"]),  # the longer phrase, not "stop drinking"
        ("any AA near me?", ["mutual-support"]),
        ("is there a 12-step group", ["mutual-support"]),
        ("smart recovery", ["mutual-support"]),
        ("i need detox", ["treatment"]),
        ("I want to get clean", ["treatment"]),
        ("I want to stop drinking", ["treatment"]),
        ("looking for a sober house", ["sober-living"]),
        ("dual diagnosis", ["dual-diagnosis"]),
        ("is there a food bank", ["food"]),
        ("I'm homeless", ["shelter"]),
        ("I need a job", ["jobs"]),
        ("I need a ride to my appointment", ["transportation"]),
        ("i just need someone to talk to", ["talk-now"]),
        ("I need a bed tonight", ["treatment", "shelter"]),  # the same words, two topics: asked about
        ("I slipped yesterday", ["peer-support"]),
        ("im scared", ["talk-now"]),  # how it feels, said of oneself
        ("I feel so anxious", ["talk-now"]),
        ("having a panic attack", ["talk-now"]),
        ("tengo miedo", ["talk-now"]),
        ("my son is using and im scared", ["family", "talk-now"]),  # two needs: asked which helps most
    ],
)
def test_a_need_in_words_chooses_its_topic(context: Context, text: str, topics: list[str]) -> None:
    assert [h.said.topic for h in read(context, text).topics] == topics


@pytest.mark.parametrize(
    "text",
    [
        "I have a meeting with my lawyer tomorrow",
        "I work nights",
        "I don't want to drink",  # not a slip
        "my phone is dying",
        "hello",
        "thanks so much",
        "I need to get to work",
        "I'm not afraid to ask",  # a feeling denied
        "my daughter is scared of the dark",  # someone else's fear, of nothing the helpline serves
        "mi hija tiene miedo a la oscuridad",
    ],
)
def test_an_ordinary_sentence_chooses_no_topic_and_no_answer(context: Context, text: str) -> None:
    reading = read(context, text)
    assert reading.topics == () and reading.answer is None, reading.why


def test_a_topic_and_a_place_in_one_text(context: Context) -> None:
    reading = read(context, "NA meetings near Port Orange")
    assert [h.said.topic for h in reading.topics] == ["mutual-support"]
    assert reading.place.town is not None and reading.place.town.label == "Port Orange, FL"
    assert "topic 'mutual-support': 'na meetings'" in reading.why[0]
    assert "Port Orange, FL in Volusia County, FL (town, named alone)" in reading.why[1]


def test_the_phrase_leaves_the_place_alone(context: Context) -> None:
    reading = read(context, "AA port orange")
    assert reading.place.town is not None and reading.place.town.label == "Port Orange, FL"


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("can I buy narcan at a pharmacy?", "naloxone"),
        ("how do I use naloxone", "naloxone"),
        ("where do i get fentanyl test strips", "test-strips"),
        ("i relapsed last night", "relapse"),
    ],
)
def test_a_question_finds_its_answer(context: Context, text: str, answer: str) -> None:
    reading = read(context, text)
    assert reading.answer is not None and reading.answer.said.name == answer
