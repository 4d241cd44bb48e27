"""Realistic, validly signed SMS webhook traffic, written once to a file that wrk replays.

Each simulated phone follows one of a few scripts (first messages, menu choices, county names with typos, ZIP
codes, MENU/BACK/HELP/MORE); the messages of all phones are interleaved round by round, so by the time a phone's
next message is sent its previous one has long been answered, as it would be for a person typing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bot.core.places import Gazetteer, county_alias

ACCOUNT_SID = "AC" + "b" * 32
HELPLINE_NUMBER = "+13865550100"


def _typo(rng: random.Random, word: str) -> str:
    """One slip of the thumb: a letter dropped or two swapped (short words are left alone)."""
    if len(word) < 6:
        return word
    i = rng.randrange(1, len(word) - 2)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


class Traffic:
    """Draws places and scripts from the US gazetteer; `home` is the helpline's own state."""

    def __init__(self, places: Gazetteer, seed: int = 6, home: str = "FL"):
        self.rng = random.Random(seed)
        self.places = places
        self.zips = sorted(z for z in places.zip_points if z in places.zip_to_county)
        keys = sorted(places.counties)
        self.home = [k for k in keys if places.counties[k].state == home]
        self.away = [k for k in keys if places.counties[k].state != home]

    def zip_code(self) -> str:
        return self.rng.choice(self.zips)

    def county_text(self) -> str:
        """How people name a county: mostly their own state's, sometimes with a typo or another state's."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            county = self.places.counties[rng.choice(self.home)]
            name = county_alias(county.name)
            return _typo(rng, name) if rng.random() < 0.4 else rng.choice([name, f"{name} county", county.name])
        county = self.places.counties[rng.choice(self.away)]
        name = county_alias(county.name)
        if roll < 0.8:
            return f"{name} county {county.state.lower()}"
        return _typo(rng, name)

    def script(self) -> list[str]:
        """One person's messages."""
        rng = self.rng
        greeting = rng.choice(["hi", "Hello", "hey", "I need help", "hi there"])
        scripts = [
            lambda: [greeting, "1", self.county_text(), "menu"],
            lambda: [self.zip_code(), "more", "2", "MENU"],
            lambda: [greeting, "2", self.zip_code(), "1", self.county_text()],
            lambda: [self.county_text(), rng.choice(["yes", "1", "no"]), "help", "back"],
            lambda: [greeting, "3", rng.choice(["1", "2", "3", "4"]), self.zip_code(), "menu", "5"],
            lambda: [greeting, "4", rng.choice(["1", "2", "3", "4"]), self.county_text(), "more"],
        ]
        return rng.choice(scripts)()


def conversations(traffic: Traffic, phones: int, prefix: str) -> Iterator[tuple[str, str]]:
    """(sender, text) for `phones` people, round by round (every phone's first message, then second, ...)."""
    scripts = [(f"+1999{prefix}{i:06d}", traffic.script()) for i in range(phones)]
    for round_ in range(max(len(s) for _, s in scripts)):
        for sender, script in scripts:
            if round_ < len(script):
                yield sender, script[round_]


def sms_params(body: str, sender: str) -> dict[str, str]:
    """The form fields Twilio posts for an inbound SMS."""
    sid = "SM" + uuid.uuid4().hex
    return {
        "ToCountry": "US", "ToState": "FL", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "DAYTONA BEACH",
        "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "", "Body": body,
        "FromCountry": "US", "To": HELPLINE_NUMBER, "ToZip": "32114", "NumSegments": "1", "MessageSid": sid,
        "AccountSid": ACCOUNT_SID, "From": sender, "ApiVersion": "2010-04-01",
    }


def write_requests(path: Path, traffic: Traffic, phones: int, prefix: str, token: str, url: str) -> int:
    """Write `signature<TAB>body` lines for wrk; returns how many."""
    validator = RequestValidator(token)
    count = 0
    with path.open("w") as out:
        for sender, text in conversations(traffic, phones, prefix):
            params = sms_params(text, sender)
            out.write(f"{validator.compute_signature(url, params)}\t{urlencode(params)}\n")
            count += 1
    return count
