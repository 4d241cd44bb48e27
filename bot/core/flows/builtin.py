"""What the helpline runs when its flow or crisis file cannot be read at start: small, built in, safe.

It still reads counties and ZIP codes and still screens for crisis; the hotlines ride on every reply.
"""

from __future__ import annotations

from bot.core.flows.loader import parse_flow
from bot.core.flows.model import Flow
from bot.core.safety import CrisisScreen, parse_crisis

SAFE_FLOW_YAML = """
flow: main
start: ask_place
languages: [en]
topics:
  peer-support: local peer support
states:
  ask_place:
    text: "Text your COUNTY name or 5-digit ZIP code for local peer support."
    speech: "Please say the name of your county, or enter your 5 digit ZIP code followed by the pound key."
    expect: place
    goto: results
  results:
    text: "{topic} in {county}:"
    show: resources
    expect: place
    goto: results
messages:
  welcome_back: "Welcome back."
  not_understood: "Sorry, I didn't understand that."
  place_unknown: "I couldn't find that county. Text a county name or a 5-digit ZIP code."
  zip_unknown: "I couldn't find ZIP code {zip}. Text your county name instead."
  did_you_mean: "Did you mean {county}? Reply YES or NO."
  did_you_mean_many: "Did you mean one of these? Reply with a number:"
  no_local: "We don't have {topic} listed in {county} yet."
  nearby: "Nearest listed, {county} (about {miles} miles):"
  within: "Also within {miles} miles of {zip}:"
  national: "Anywhere in the US:"
  more: "Reply MORE for {count} more."
  no_more: "That's the whole list."
  help: "{program}: reply with your county or ZIP. Reply STOP to opt out. Msg&data rates may apply."
  at_start: "Text your county or ZIP code."
  slow_down: "You're sending messages very fast. If you need someone now, call:"
  unavailable: "Our directory is not available right now. Please call:"
  opted_out: "You're unsubscribed from {program} and will get no more messages. Reply START to resubscribe."
  opted_in: "You're resubscribed to {program}. Reply STOP to opt out."
  flow_changed: "Our menu has changed, so we're starting again."
"""

SAFE_CRISIS_YAML = """
languages: [en, es]
categories:
  self_harm:
    level: emergency
    phrases:
      en: [kill myself, end my life, want to die, suicide, suicidal, hurt myself, no reason to live, end it all]
      es: [matarme, suicidarme, quiero morir, no quiero vivir]
  overdose:
    level: emergency
    overdose: true
    phrases:
      en: [overdose, overdosed, overdosing, od, too many pills, not breathing, cant wake]
      es: [sobredosis, no respira]
  harm_to_others:
    level: emergency
    phrases:
      en: [kill him, kill her, kill them, going to kill me, has a gun]
      es: [me va a matar]
except:
  en: [dying to, suicide prevention, overdose awareness]
replies:
  emergency:
    en: "If you or someone near you is in danger, call 911 now."
    es: "Si usted o alguien cerca esta en peligro, llame al 911 ahora."
  overdose:
    en: "Possible overdose: call 911 now. Give naloxone (Narcan) if you have it."
    es: "Posible sobredosis: llame al 911 ahora. De naloxona (Narcan) si la tiene."
  support:
    en: "Call or text 988 any time (Veterans press 1; Spanish: text AYUDA to 988). Or text HOME to 741741."
    es: "Llame o envie un texto al 988 (en espanol: texto AYUDA al 988). O envie HOME al 741741."
  go_on:
    en: "Reply with your county or ZIP when you're ready."
    es: "Responda con su condado o codigo postal cuando este listo."
  go_on_voice:
    en: "To talk to someone at the 24/7 line now, press 0."
    es: "Para hablar ahora con alguien, marque 0."
"""


def safe_flow() -> Flow:
    """The built-in minimal flow: county or ZIP in, resources and hotlines out."""
    return parse_flow(SAFE_FLOW_YAML, "<built-in safe flow>")


def safe_crisis() -> CrisisScreen:
    """The built-in crisis phrases, used only when flows/crisis.yaml cannot be read."""
    return parse_crisis(SAFE_CRISIS_YAML, "<built-in crisis phrases>")
