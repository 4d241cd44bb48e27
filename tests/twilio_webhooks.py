"""Twilio as the tests play it: a phone that texts the helpline and a caller who calls it, with the form fields
and `X-Twilio-Signature` Twilio sends, and the TwiML that comes back parsed (never compared as strings)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from twilio.request_validator import RequestValidator

if TYPE_CHECKING:
    from flask.testing import FlaskClient

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32
HELPLINE_NUMBER = "+13865550100"
HOTLINE_TEXT = "(800) 539-4228"
SAMHSA_TEXT = "1-800-662-HELP (4357)"


def twilio_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """The `X-Twilio-Signature` Twilio would send for a form POST to `url`."""
    return RequestValidator(token).compute_signature(url, params)


def sms_params(body: str, sender: str, to: str = HELPLINE_NUMBER) -> dict[str, str]:
    """The form fields Twilio posts for an inbound SMS."""
    sid = twilio_sid("SM")
    return {
        "ToCountry": "US",
        "ToState": "FL",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "DAYTONA BEACH",
        "FromZip": "32114",
        "SmsSid": sid,
        "FromState": "FL",
        "SmsStatus": "received",
        "FromCity": "DAYTONA BEACH",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": "32114",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def message_text(xml: str) -> str:
    """The text of the single `<Message>` in a TwiML response (asserting there is exactly one)."""
    root = ElementTree.fromstring(xml)
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) == 1, xml
    return messages[0].text or ""


@dataclass
class Phone:
    """A person's phone texting the helpline through Twilio's webhook, signed as Twilio signs."""

    client: FlaskClient
    number: str
    base_url: str = "http://localhost"
    replies: list[str] = field(default_factory=list)

    def post(self, body: str, **extra: str) -> object:
        params = sms_params(body, self.number)
        params.update(extra)
        url = f"{self.base_url}/sms"
        return self.client.post("/sms", data=params, headers={"X-Twilio-Signature": sign(url, params)})

    def send(self, body: str) -> str:
        """Text `body`; return the reply text (asserting a 200 TwiML answer)."""
        response = self.post(body)
        assert response.status_code == 200, response.data
        assert response.mimetype == "application/xml"
        text = message_text(response.get_data(as_text=True))
        self.replies.append(text)
        return text

    def send_silent(self, body: str) -> None:
        """Text `body` and assert Twilio is told to send nothing back (`<Response/>`)."""
        response = self.post(body)
        assert response.status_code == 200, response.data
        root = ElementTree.fromstring(response.get_data(as_text=True))
        assert root.tag == "Response" and len(root) == 0, response.data


def assert_hotlines(text: str) -> None:
    """Every reply carries the 24/7 line and SAMHSA."""
    assert HOTLINE_TEXT in text, text
    assert SAMHSA_TEXT in text, text


def call_params(call_sid: str, caller: str, to: str = HELPLINE_NUMBER, status: str = "in-progress") -> dict[str, str]:
    """The form fields Twilio posts with every webhook of an inbound call."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": status,
        "Direction": "inbound",
        "From": caller,
        "Caller": caller,
        "CallerCity": "DAYTONA BEACH",
        "CallerState": "FL",
        "CallerZip": "32114",
        "CallerCountry": "US",
        "FromCity": "DAYTONA BEACH",
        "FromState": "FL",
        "FromZip": "32114",
        "FromCountry": "US",
        "To": to,
        "Called": to,
        "CalledCity": "DAYTONA BEACH",
        "CalledState": "FL",
        "CalledZip": "32114",
        "CalledCountry": "US",
        "ToCity": "DAYTONA BEACH",
        "ToState": "FL",
        "ToZip": "32114",
        "ToCountry": "US",
    }


def twiml(xml: str) -> ElementTree.Element:
    """Parse a TwiML document, asserting it is one `<Response>`."""
    root = ElementTree.fromstring(xml)
    assert root.tag == "Response", xml
    return root


def spoken(root: ElementTree.Element) -> str:
    """Everything the caller hears in a TwiML response, in order."""
    return " ".join((say.text or "").strip() for say in root.iter("Say"))


@dataclass
class Call:
    """One phone call to the helpline, driven through Twilio's voice webhooks, signed as Twilio signs."""

    client: FlaskClient
    caller: str
    sid: str = field(default_factory=lambda: twilio_sid("CA"))
    base_url: str = "http://localhost"
    heard: list[str] = field(default_factory=list)
    gather_url: str = "/voice/gather"
    dial_url: str = "/voice/dial-status"

    def _follow(self, root: ElementTree.Element) -> None:
        """Remember the callback URLs the last TwiML gave, as Twilio would call them."""
        for gather in root.iter("Gather"):
            self.gather_url = gather.get("action") or self.gather_url
        for dial in root.iter("Dial"):
            self.dial_url = dial.get("action") or self.dial_url

    def post(self, path: str, status: str = "in-progress", **fields: str) -> ElementTree.Element:
        """POST a signed webhook; return the TwiML root (asserting a 200 XML answer)."""
        params = call_params(self.sid, self.caller, status=status)
        params.update(fields)
        url = f"{self.base_url}{path}"
        response = self.client.post(path, data=params, headers={"X-Twilio-Signature": sign(url, params)})
        assert response.status_code == 200, response.data
        assert response.mimetype == "application/xml"
        root = twiml(response.get_data(as_text=True))
        self.heard.append(spoken(root))
        self._follow(root)
        return root

    def start(self) -> ElementTree.Element:
        """The call comes in."""
        return self.post("/voice", status="ringing")

    def press(self, digits: str) -> ElementTree.Element:
        return self.post(self.gather_url, Digits=digits, msg="Gather End")

    def say(self, words: str, confidence: str = "0.91") -> ElementTree.Element:
        return self.post(self.gather_url, SpeechResult=words, Confidence=confidence)

    def silence(self) -> ElementTree.Element:
        """The Gather timed out: Twilio still calls the action (actionOnEmptyResult), with nothing heard."""
        return self.post(self.gather_url)

    def dial_ended(self, status: str, duration: str = "0") -> ElementTree.Element:
        return self.post(
            self.dial_url,
            DialCallStatus=status,
            DialCallSid=twilio_sid("CA"),
            DialCallDuration=duration,
            DialBridged="false",
        )

    def hang_up(self) -> int:
        """Twilio's status callback for the ended call; returns the HTTP status."""
        params = call_params(self.sid, self.caller, status="completed")
        params.update(CallDuration="42", CallbackSource="call-progress-events", SequenceNumber="0")
        signature = sign(f"{self.base_url}/voice/status", params)
        return self.client.post("/voice/status", data=params, headers={"X-Twilio-Signature": signature}).status_code
