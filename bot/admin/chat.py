"""`helpline chat`: a conversation with the real engine and data, in the terminal.

By text (the default) each reply is shown as the phone shows it, under a line giving its segment count,
encoding and length. As a caller (`--voice`) a line of digits, `*` or `#` is keys pressed (`32114#` is a ZIP
code) and anything else is words said aloud; each reply is what the caller hears. Lines starting with `/`
are commands: /sms, /voice, /reset, /state, /help, /quit. Under each reply a `read as:` line says why the message
was read as it was (the phrase, place or rule). When standard input is not a terminal the lines are read from it,
so a conversation can be scripted: `printf 'hi\n1\nvolusia\n' | helpline chat`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TextIO

import click

from bot.admin.preview import sms_preview, voice_preview
from bot.admin.sandbox import sandbox_context
from bot.config import Settings
from bot.core.engine import Context, Inbound, step
from bot.core.flows import FlowError, load_flow
from bot.core.session import Session
from bot.storage.gazetteer_cache import load_gazetteer

KEYS = re.compile(r"^[0-9*#]+$")
HELP = (
    "Type what the person would text. Commands: /voice (be a caller: digits are keys, words are speech), "
    "/sms, /reset (a new conversation), /state (where the conversation is), /quit."
)


class Chat:
    """One simulated conversation; `say` returns what to print."""

    def __init__(self, context: Context, voice: bool = False, language: str | None = None):
        self.context = context
        self.voice = voice
        self.language = language
        self.session: Session | None = None
        self.reset()

    def reset(self) -> None:
        flow = self.context.flow
        self.session = Session(flow=flow.name, state=flow.start, language=self.language) if self.language else None

    @property
    def channel(self) -> str:
        return "voice" if self.voice else "sms"

    def say(self, line: str) -> str:
        """Send one line; the reply as the phone shows it (or the caller hears it)."""
        if self.voice and KEYS.match(line.strip()):
            inbound = Inbound(digits=line.strip().rstrip("#"), channel="voice")
        else:
            inbound = Inbound(text=line, channel=self.channel)
        turn = step(self.context, self.session, inbound)
        self.session = turn.session
        why = "".join(f"\n  read as: {reason}" for reason in turn.why)
        if self.voice:
            words = voice_preview(turn.reply)
            return _box(f"caller hears  [state: {self.session.state}]", words) + why
        body, measured = sms_preview(turn.reply)
        head = (
            f"{measured.segments} segment{'s' if measured.segments != 1 else ''}, {measured.encoding}, "
            f"{measured.units} units, {len(body)} characters  [state: {self.session.state}]"
        )
        if measured.segments > self.context.sms_budget:
            head += f"  OVER THE BUDGET OF {self.context.sms_budget}"
        return _box(head, body) + why

    def command(self, line: str) -> str | None:
        """Handle a /command; None means quit."""
        name = line.strip().lower()
        if name in ("/quit", "/exit", "/q"):
            return None
        if name == "/voice":
            self.voice = True
            self.reset()
            return "(now a caller: digits are keys, e.g. 1 or 32114#; other words are speech. New call.)"
        if name == "/sms":
            self.voice = False
            self.reset()
            return "(now texting. New conversation.)"
        if name == "/reset":
            self.reset()
            return "(new conversation)"
        if name == "/state":
            s = self.session
            if s is None:
                return "(no conversation yet)"
            return f"(state {s.state}, language {s.language}, vars {dict(s.vars)}, back to {list(s.history)})"
        return HELP


def _box(head: str, body: str) -> str:
    lines = [f"  +-- {head}"]
    lines += [f"  | {line}" if line else "  |" for line in body.splitlines()]
    lines.append("  +--")
    return "\n".join(lines)


def run_chat(
    settings: Settings,
    flow_path: Path,
    data_dir: Path,
    *,
    voice: bool,
    language: str | None,
    stdin: TextIO,
    interactive: bool,
) -> int:
    """Run the simulator until /quit or the end of input; the exit status."""
    try:
        flow = load_flow(flow_path)
    except FlowError as exc:
        for p in exc.problems:
            click.echo(str(p), err=True)
        return 1
    if language and language not in flow.languages:
        click.echo(f"the flow speaks {', '.join(flow.languages)}, not {language!r}", err=True)
        return 1
    with sandbox_context(settings, flow, load_gazetteer(settings.instance_dir), data_dir) as context:
        chat = Chat(context, voice=voice, language=language)
        if interactive:
            click.echo(f"{flow.source}: {len(flow.states)} states; data from {data_dir}. {HELP}")
        while True:
            if interactive:
                try:
                    line = click.prompt(
                        "caller" if chat.voice else "you", prompt_suffix="> ", default="", show_default=False
                    )
                except (EOFError, click.Abort):
                    click.echo()
                    return 0
            else:
                raw = stdin.readline()
                if not raw:
                    return 0
                line = raw.rstrip("\n")
                click.echo(f"{'caller' if chat.voice else 'you'}> {line}")
            if line.startswith("/"):
                answer = chat.command(line)
                if answer is None:
                    return 0
                click.echo(answer)
                continue
            click.echo(chat.say(line))
