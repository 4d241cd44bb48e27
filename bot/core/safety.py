"""The crisis screen: phrases that mean danger, read before any menu, in every state and channel.

Admins keep the phrase patterns in `flows/crisis.yaml` (its header explains the pattern syntax). Each pattern is
compiled once, at load, into a regular expression over the message's normalised words, so reading a message is a
handful of regex searches. A match answers first with 911 (and naloxone for an overdose) when the danger is
immediate, and always with 988 and the Crisis Text Line; the hotlines follow as on every reply. The conversation is
kept, so the person can go on with the menu afterwards.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.core.flows.loader import FlowError, Problem, read_file, read_yaml
from bot.core.text import unmask

LEVELS = ("emergency", "support")
REPLY_KEYS = ("emergency", "overdose", "support", "go_on", "go_on_voice")
DEFAULT_GAP = 3
MAX_GAP = 9
# Automatic spelling slips: a swapped pair of letters in words this long or longer, a missing letter in
# words this long or longer (shorter words collide with other words too often: "bridge" and "bride").
SWAP_MIN = 6
DROP_MIN = 8
KNOWN_WORDS = 50_000  # words whose patterns are kept, per index, before the memo starts again

_CANONICAL = (
    (re.compile(r"\bo\.?d\.?(?:'e?d|ed)\b"), " overdosed "),
    (re.compile(r"\bo\.d\.?(?=\s|$)"), " od "),
)
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_NOT_PATTERN = re.compile(r"[^a-z0-9 ()\[\]|~*@_<>$]+")
_RUNS = re.compile(r"([a-z])\1{2,}")  # "killll", "diiie": a letter held down
_DOUBLE = re.compile(r"([a-z])\1")
# Words so common in messages that a pattern is better anchored on another of its words.
_COMMON = frozenset(
    "a an and are at be but can did do does for from get go going got had has have he her him his how i if in is it"
    " its just like me my no not now of off on or out she so that the them then there they this to up was we what"
    " when where who will with would you your want know feel think really el ella en es esta estoy la las lo los me"
    " mi mis no para pero por que se si su te todo un una y ya yo".split()
)
_PATTERN_TOKEN = re.compile(r"~\d*|[()\[\]|]|[^\s()\[\]|~]+")
_LITERAL = re.compile(r"[a-z0-9]+")
_LIST_NAME = re.compile(r"@[a-z0-9_]+")
_ANY_WORD = "[a-z0-9]+"
_NUMBER = "[1-9][0-9]+"  # `<number>`: a number of 10 or more
_LEET = str.maketrans("013457", "oieast")


def _plain(text: str, keep: re.Pattern[str]) -> str:
    """Lower case, accents, invisible characters and apostrophes dropped, the rest not in `keep`'s complement
    made spaces."""
    plain = unmask(text.lower()).replace("\u2019", "'").replace("`", "'")
    if "od" in plain or "o.d" in plain:
        for pattern, replacement in _CANONICAL:
            plain = pattern.sub(replacement, plain)
    return " ".join(keep.sub(" ", plain.replace("'", "")).split())


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces, accents, apostrophes and invisible characters dropped,
    padded with spaces."""
    return f" {_plain(text, _NOT_WORD)} "


def _forgive_doubles(words: str) -> str:
    """Regex for plain words in which a doubled letter may be typed once ("kil", "pils", "to many")."""
    return _DOUBLE.sub(r"\1{1,2}", words)


@dataclass(frozen=True)
class CrisisMatch:
    """Which kind of danger a message named, how urgently to answer, and the pattern that heard it."""

    category: str
    level: str
    overdose: bool
    phrase: str = ""
    language: str = ""


@dataclass(frozen=True)
class Category:
    name: str
    level: str
    overdose: bool
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Anchor:
    """Words of which a message must hold one for a pattern to match: whole words and word beginnings, each as
    typed with its doubled letters once or twice. A message holding none is not searched with that pattern."""

    words: frozenset[str]
    stems: frozenset[str] = frozenset()

    def __or__(self, other: Anchor) -> Anchor:
        return Anchor(self.words | other.words, self.stems | other.stems)

    @property
    def rarity(self) -> tuple[int, int]:
        """Longer words are rarer in messages, so they rule out more of them: the shortest word counts most."""
        shortest = min((1 if w in _COMMON else len(w) for w in self.words | self.stems), default=0)
        return (shortest, -len(self.words) - len(self.stems))


@dataclass(frozen=True)
class Pattern:
    """One compiled pattern: the text as written, its language, its regex and its anchor (None: always tried)."""

    source: str
    language: str
    regex: re.Pattern[str]
    anchor: Anchor | None
    category: Category | None = None


@dataclass(frozen=True)
class _Index:
    """Which patterns a message's words can start: each pattern is tried only when its anchor is present."""

    patterns: tuple[Pattern, ...]
    by_word: dict[str, tuple[int, ...]]
    by_stem: dict[str, tuple[int, ...]]
    stem_lengths: tuple[int, ...]
    always: tuple[int, ...]
    known: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, patterns: list[Pattern]) -> _Index:
        by_word: dict[str, list[int]] = {}
        by_stem: dict[str, list[int]] = {}
        always = []
        for i, p in enumerate(patterns):
            if p.anchor is None:
                always.append(i)
                continue
            for w in p.anchor.words:
                by_word.setdefault(w, []).append(i)
            for w in p.anchor.stems:
                by_stem.setdefault(w, []).append(i)
        return cls(
            tuple(patterns),
            {k: tuple(v) for k, v in by_word.items()},
            {k: tuple(v) for k, v in by_stem.items()},
            tuple(sorted({len(k) for k in by_stem})),
            tuple(always),
        )

    def candidates(self, words: set[str]) -> list[Pattern]:
        """The patterns worth trying on a message with these words, in their order."""
        found = set(self.always)
        known = self.known
        for w in words:
            hit = known.get(w)
            if hit is None:
                hit = self._lookup(w)
            if hit:
                found.update(hit)
        return [self.patterns[i] for i in sorted(found)]

    def _lookup(self, word: str) -> tuple[int, ...]:
        """The patterns a word can start, kept: the same words come back in message after message."""
        hit = list(self.by_word.get(word, ()))
        for n in self.stem_lengths:
            if len(word) < n:
                break
            hit += self.by_stem.get(word[:n], ())
        if len(self.known) >= KNOWN_WORDS:
            self.known.clear()
        self.known[word] = found = tuple(hit)
        return found


@dataclass(frozen=True)
class Spelling:
    """How a message's words are brought to the words the patterns are written in."""

    phrases: re.Pattern[str] | None  # multi-word variants ("any more" -> "anymore")
    words: dict[str, str]  # one-word variants ("dont" -> "do not"), and slips of the patterns' words
    vocabulary: frozenset[str] = frozenset()  # the words the patterns are written in

    def apply(self, padded: str) -> str:
        held = _RUNS.sub(r"\1", padded)
        if self.phrases is not None:
            held = self.phrases.sub(lambda m: self.words[m.group(1)] + " ", held)
        words, vocabulary = self.words, self.vocabulary
        out = []
        for token in held.split():
            if token in words:
                out.append(words[token])
            elif token.isalpha() or token.isdigit() or token in vocabulary:
                out.append(token)
            else:
                # Letters written as digits ("k1ll", "su1c1de"); words like "m30s" are in the vocabulary.
                leet = _RUNS.sub(r"\1", token.translate(_LEET))
                out.append(words.get(leet, leet))
        return f" {' '.join(out)} "


_EMPTY = _Index((), {}, {}, (), ())


@dataclass(frozen=True)
class CrisisScreen:
    """Phrase patterns per category, the figures of speech that cancel them, and the words of the answer."""

    categories: tuple[Category, ...]
    exceptions: tuple[str, ...]
    replies: dict[str, dict[str, str]]
    languages: tuple[str, ...]
    source: str = ""
    index: _Index = field(default=_EMPTY, repr=False, compare=False)  # most urgent category first
    cancels: _Index = field(default=_EMPTY, repr=False, compare=False)
    spelling: Spelling = field(default_factory=lambda: Spelling(None, {}), repr=False, compare=False)

    def _read(self, text: str) -> tuple[str, set[str]]:
        padded = self.spelling.apply(normalise(text))
        words = set(padded.split())
        for cancel in self.cancels.candidates(words):
            padded = cancel.regex.sub(" | ", padded)
        return padded, words

    def read(self, text: str) -> str:
        """The words the patterns are matched against: normalised, spelling mended, figures of speech cut out
        (each leaves a `|` no pattern reaches across, with the spaces around it)."""
        return self._read(text)[0]

    def match(self, text: str) -> CrisisMatch | None:
        """The most urgent category named in `text`, in any language, or None."""
        if not text or not text.strip():
            return None
        padded, words = self._read(text)
        for pattern in self.index.candidates(words):
            if pattern.regex.search(padded) is not None and pattern.category is not None:
                c = pattern.category
                return CrisisMatch(c.name, c.level, c.overdose, pattern.source, pattern.language)
        return None

    def answer(self, match: CrisisMatch, language: str, channel: str) -> str:
        """The words of the crisis answer, most urgent first."""
        lang = language if language in self.languages else self.languages[0]
        parts = []
        if match.level == "emergency":
            parts.append(self.replies["overdose" if match.overdose else "emergency"][lang])
        parts.append(self.replies["support"][lang])
        parts.append(self.replies["go_on_voice" if channel == "voice" else "go_on"][lang])
        return " ".join(parts)


def _rank(category: Category) -> tuple[int, int]:
    return (1 if category.level == "emergency" else 0, 1 if category.overdose else 0)


# -- the pattern syntax --------------------------------------------------------------------------------------


class PatternError(ValueError):
    """A pattern that cannot be compiled; the message says why, for an admin."""


@dataclass(frozen=True)
class _Words:
    """How to write a pattern's words as regex: spelling mended, lists expanded."""

    spelling: dict[str, str]
    multiword: tuple[tuple[str, str], ...]
    lists: dict[str, tuple[str, Anchor]]
    seen: set[str] = field(default_factory=set)  # every word written so far: the vocabulary

    def literal(self, words: str) -> str:
        """A run of plain words, spelled as the mended message will spell them."""
        padded = f" {words} "
        for variant, canonical in self.multiword:
            padded = padded.replace(f" {variant} ", f" {canonical} ")
        out = [self.spelling.get(w, w) for w in padded.split()]
        self.seen.update(w for item in out for w in item.split())
        return " ".join(out)

    def word(self, token: str, where: str) -> tuple[str, Anchor | None]:
        """One word of a pattern as regex, and what a message must hold for it (None for `*`, `<number>`)."""
        if token == "*":
            return _ANY_WORD, None
        if token == "<number>":
            return _NUMBER, None
        if token.startswith("@"):
            if not _LIST_NAME.fullmatch(token) or token[1:] not in self.lists:
                known = ", ".join(sorted(self.lists)) or "none"
                raise PatternError(f"{where}: unknown list {token!r} (lists: {known})")
            return self.lists[token[1:]]
        stem, star = (token[:-1], True) if token.endswith("*") else (token, False)
        if not _LITERAL.fullmatch(stem):
            raise PatternError(f"{where}: {token!r} is not a word (letters and digits, `*` only at its end)")
        if star:
            self.seen.add(stem)
            return _forgive_doubles(stem) + "[a-z0-9]*", Anchor(frozenset(), _typed_once(stem))
        return self.run([stem])

    def run(self, tokens: list[str]) -> tuple[str, Anchor]:
        """Plain words in a row, anchored on the rarest of them."""
        canonical = self.literal(" ".join(tokens))
        rarest = max(canonical.split(), key=lambda w: 0 if w in _COMMON else len(w))
        return _forgive_doubles(canonical), Anchor(_typed_once(rarest))


def _typed_once(word: str) -> frozenset[str]:
    """A word as it may be typed, each doubled letter twice or once ("kill", "kil")."""
    forms = {""}
    i = 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == word[i + 1]:
            forms = {f + word[i] for f in forms} | {f + word[i] * 2 for f in forms}
            i += 2
        else:
            forms = {f + word[i] for f in forms}
            i += 1
    return frozenset(forms)


def _best(anchors: list[Anchor | None]) -> Anchor | None:
    found = [a for a in anchors if a is not None]
    return max(found, key=lambda a: a.rarity) if found else None


def _tokens(pattern: str) -> list[str]:
    return _PATTERN_TOKEN.findall(_plain(pattern, _NOT_PATTERN))


def _sequence(tokens: list[str], words: _Words, where: str) -> tuple[str, Anchor | None]:
    """Words in a row (one choice of a group, or the words between gaps), as regex ending in a space."""
    out: list[str] = []
    anchors: list[Anchor | None] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            regex, anchor = words.run(run)
            out.append(regex + " ")  # letters, digits and `{1,2}`: nothing to escape
            anchors.append(anchor)
            run.clear()

    for token in tokens:
        if _LITERAL.fullmatch(token):
            run.append(token)
        else:
            flush()
            regex, anchor = words.word(token, where)
            out.append(regex + " ")
            anchors.append(anchor)
    flush()
    return "".join(out), _best(anchors)


def _compile(pattern: str, words: _Words) -> tuple[str, Anchor | None]:
    """A pattern as a regex over a padded, normalised message (see the syntax in flows/crisis.yaml), and the
    words a message must hold for it to match."""
    tokens = _tokens(pattern)
    where = repr(pattern.strip())
    if not tokens:
        raise PatternError(f"{where}: empty pattern")
    parts: list[str] = []
    anchors: list[Anchor | None] = []
    previous_gap = True  # a pattern cannot begin with a gap
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("~"):
            if previous_gap:
                raise PatternError(f"{where}: `~` must stand between two words")
            size = int(token[1:]) if len(token) > 1 else DEFAULT_GAP
            if not 1 <= size <= MAX_GAP:
                raise PatternError(f"{where}: `{token}`: a gap is 1 to {MAX_GAP} words")
            parts.append(f"(?:{_ANY_WORD} ){{0,{size}}}")
            previous_gap = True
            i += 1
            continue
        previous_gap = False
        if token in ("(", "["):
            close = ")" if token == "(" else "]"
            try:
                end = tokens.index(close, i + 1)
            except ValueError:
                raise PatternError(f"{where}: `{token}` is not closed with `{close}`") from None
            inner = tokens[i + 1 : end]
            if any(t in ("(", "[", ")", "]", "$") or t.startswith("~") for t in inner):
                raise PatternError(f"{where}: groups cannot be nested or hold `~` or `$`")
            alternatives: list[list[str]] = [[]]
            for t in inner:
                if t == "|":
                    alternatives.append([])
                else:
                    alternatives[-1].append(t)
            if any(not a for a in alternatives):
                raise PatternError(f"{where}: an empty choice in `{token}...{close}` (optional words go in [ ])")
            compiled = [_sequence(a, words, where) for a in alternatives]
            body = "|".join(regex for regex, _ in compiled)
            if token == "(":
                parts.append(f"(?:{body})")
                if all(anchor is not None for _, anchor in compiled):
                    union = compiled[0][1]
                    for _, anchor in compiled[1:]:
                        union = union | anchor  # type: ignore[operator]
                    anchors.append(union)
            else:
                parts.append(f"(?:{body})?")
            i = end + 1
            continue
        if token in (")", "]", "|"):
            raise PatternError(f"{where}: a stray `{token}`")
        if token == "$":
            if i != len(tokens) - 1 or not parts:
                raise PatternError(f"{where}: `$` (the end of the message) can only end a pattern")
            parts.append("$")
            i += 1
            continue
        j = i
        while j < len(tokens) and tokens[j] not in ("(", "[", ")", "]", "|", "$") and not tokens[j].startswith("~"):
            j += 1
        regex, anchor = _sequence(tokens[i:j], words, where)
        parts.append(regex)
        anchors.append(anchor)
        i = j
    if previous_gap:
        raise PatternError(f"{where}: `~` must stand between two words")
    anchor = _best(anchors)
    if anchor is None:
        raise PatternError(f"{where}: needs at least one word that is neither optional nor `*` or `<number>`")
    return "".join(parts), anchor


def _slips(word: str) -> Iterator[str]:
    """Common one-letter typing slips of a word: two letters swapped, one letter left out."""
    if len(word) >= SWAP_MIN:
        for i in range(len(word) - 1):
            if word[i] != word[i + 1]:
                yield word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if len(word) >= DROP_MIN:
        for i in range(len(word)):
            yield word[:i] + word[i + 1 :]


def _spelling(words: _Words) -> Spelling:
    table = dict(words.spelling)
    vocabulary = frozenset(words.seen)
    known = vocabulary | set(table) | {w for v in table.values() for w in v.split()}
    for word in sorted(vocabulary):
        if not word.isalpha():
            continue
        for slip in _slips(word):
            if slip not in known and slip not in table:
                table[slip] = word
    multi = {v: c for v, c in words.multiword}
    table.update(multi)
    phrases = None
    if multi:
        alternatives = "|".join(re.escape(v) for v in sorted(multi, key=len, reverse=True))
        phrases = re.compile(f"(?<= )({alternatives}) ")
    return Spelling(phrases, table, vocabulary)


# -- reading the file ----------------------------------------------------------------------------------------


def load_crisis(path: Path) -> CrisisScreen:
    """Read and check the crisis phrase file; problems come back as `file:line: message`."""
    return parse_crisis(read_file(path), str(path))


def _line(node: object, key: object) -> int:
    try:
        return int(node.lc.key(key)[0]) + 1  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError):
        return 1


def _item_line(node: object, index: int, fallback: int) -> int:
    try:
        return int(node.lc.item(index)[0]) + 1  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError, IndexError):
        return fallback


def _read_words(raw: CommentedMap, where: str, problems: list[Problem]) -> _Words:
    """The `spellings` and `lists` sections."""
    spelling: dict[str, str] = {}
    multiword: list[tuple[str, str]] = []
    node = raw.get("spellings") or CommentedMap()
    if not isinstance(node, CommentedMap):
        problems.append(Problem(where, _line(raw, "spellings"), "spellings must map a word to its variants"))
        node = CommentedMap()
    for canonical, variants in node.items():
        target = _plain(str(canonical), _NOT_WORD)
        if not target or not isinstance(variants, list):
            problems.append(Problem(where, _line(node, canonical), f"spellings.{canonical}: give a list of variants"))
            continue
        for variant in variants:
            plain = _plain(str(variant), _NOT_WORD)
            if not plain or plain == target:
                continue
            if " " in plain:
                multiword.append((plain, target))
            else:
                spelling[plain] = target
    lists: dict[str, tuple[str, Anchor]] = {}
    node = raw.get("lists") or CommentedMap()
    if not isinstance(node, CommentedMap):
        problems.append(Problem(where, _line(raw, "lists"), "lists must map a name to its words"))
        node = CommentedMap()
    plain_words = _Words(spelling, tuple(multiword), {})
    for name, items in node.items():
        if not _LIST_NAME.fullmatch(f"@{name}") or not isinstance(items, list) or not items:
            problems.append(Problem(where, _line(node, name), f"lists.{name}: a lower-case name and a list of words"))
            continue
        entries: set[str] = set()
        anchor = Anchor(frozenset())
        for index, item in enumerate(items):
            tokens = _tokens(str(item))
            try:
                if not tokens or any(not (_LITERAL.fullmatch(t) or t.endswith("*")) for t in tokens):
                    raise PatternError(f"{str(item)!r}: list entries are plain words (`*` may end one)")
                regex, entry_anchor = _sequence(tokens, plain_words, repr(str(item)))
                entries.add(regex.rstrip(" "))
                anchor = anchor | entry_anchor  # type: ignore[operator]
            except PatternError as exc:
                problems.append(Problem(where, _item_line(items, index, _line(node, name)), f"lists.{name}: {exc}"))
        lists[str(name)] = ("(?:" + "|".join(sorted(entries, key=len, reverse=True)) + ")", anchor)
    return _Words(spelling, tuple(multiword), lists, plain_words.seen)


def _patterns(
    node: object,
    label: str,
    languages: tuple[str, ...],
    words: _Words,
    where: str,
    line: int,
    problems: list[Problem],
) -> list[Pattern]:
    """Each pattern under a per-language mapping, compiled to begin with the space before its first word (which
    lets the regex engine skip ahead to that word)."""
    out: list[Pattern] = []
    if not isinstance(node, CommentedMap):
        problems.append(Problem(where, line, f"{label}: give patterns per language (en: [...])"))
        return out
    for lang, items in node.items():
        if lang not in languages:
            problems.append(Problem(where, _line(node, lang), f"{label}: unknown language {lang!r}"))
        if not isinstance(items, CommentedSeq):
            problems.append(Problem(where, _line(node, lang), f"{label}.{lang}: give a list of patterns"))
            continue
        for index, item in enumerate(items):
            if not isinstance(item, str):
                line = _item_line(items, index, _line(node, lang))
                hint = "not a line of text (quote a pattern that begins with [, * or @)"
                problems.append(Problem(where, line, f"{label}.{lang}: {hint}"))
                continue
            try:
                regex, anchor = _compile(item, words)
                out.append(Pattern(item, str(lang), re.compile(" " + regex), anchor))
            except PatternError as exc:
                problems.append(Problem(where, _item_line(items, index, _line(node, lang)), f"{label}.{lang}: {exc}"))
    return out


def parse_crisis(text: str, where: str) -> CrisisScreen:
    """Read and check crisis phrases from YAML text; `where` names it in problems."""
    return _parse(text, where)


@functools.lru_cache(maxsize=8)
def _parse(text: str, where: str) -> CrisisScreen:
    """Compiling several hundred patterns takes a good part of a second: the same file, read again by another
    worker's reload or app, is compiled once."""
    raw = read_yaml(text, where)
    problems: list[Problem] = []
    if not isinstance(raw, CommentedMap):
        raise FlowError([Problem(where, 1, "the crisis file must be a mapping")])
    languages = tuple(str(x) for x in raw.get("languages") or ["en"])
    words = _read_words(raw, where, problems)
    categories: list[tuple[Category, list[Pattern]]] = []
    cats = raw.get("categories")
    if not isinstance(cats, CommentedMap) or not cats:
        problems.append(Problem(where, _line(raw, "categories"), "categories are missing"))
        cats = CommentedMap()
    for name, node in cats.items():
        if not isinstance(node, CommentedMap):
            problems.append(Problem(where, _line(cats, name), f"category {name!r} must be a mapping"))
            continue
        level = str(node.get("level", ""))
        if level not in LEVELS:
            problem = f"category {name!r}: level must be one of {list(LEVELS)}"
            problems.append(Problem(where, _line(cats, name), problem))
        found = _patterns(
            node.get("phrases"), f"category {name!r}", languages, words, where, _line(cats, name), problems
        )
        if not found:
            problems.append(Problem(where, _line(cats, name), f"category {name!r} has no phrases"))
        category = Category(str(name), level, bool(node.get("overdose", False)), tuple(p.source for p in found))
        categories.append((category, [replace(p, category=category) for p in found]))
    cancels = _patterns(raw.get("except") or CommentedMap(), "except", languages, words, where, _line(raw, "except"),
                        problems)
    replies = _read_replies(raw, languages, where, problems)
    if problems:
        raise FlowError(problems)
    ranked = sorted(categories, key=lambda c: _rank(c[0]), reverse=True)  # stable: file order within a rank
    return CrisisScreen(
        tuple(c for c, _ in categories),
        tuple(p.source for p in cancels),
        replies,
        languages,
        where,
        _Index.build([p for _, found in ranked for p in found]),
        _Index.build(cancels),
        _spelling(words),
    )


def _read_replies(
    raw: CommentedMap, languages: tuple[str, ...], where: str, problems: list[Problem]
) -> dict[str, dict[str, str]]:
    replies: dict[str, dict[str, str]] = {}
    replies_node = raw.get("replies") or CommentedMap()
    for key in REPLY_KEYS:
        texts = replies_node.get(key)
        if not isinstance(texts, CommentedMap):
            problems.append(Problem(where, _line(raw, "replies"), f"replies.{key} is missing"))
            continue
        for lang in languages:
            if not str(texts.get(lang) or "").strip():
                problems.append(Problem(where, _line(replies_node, key), f"replies.{key} has no {lang!r} text"))
        replies[key] = {str(k): str(v) for k, v in texts.items()}
    for lang, answer in replies.get("support", {}).items():
        if "988" not in answer:
            problems.append(Problem(where, _line(replies_node, "support"), f"replies.support.{lang} must name 988"))
    for key in ("emergency", "overdose"):
        for lang, answer in replies.get(key, {}).items():
            if "911" not in answer:
                problems.append(Problem(where, _line(replies_node, key), f"replies.{key}.{lang} must name 911"))
    return replies
