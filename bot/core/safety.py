"""The crisis screen: phrases that mean danger, read before any menu, in every state and channel.

Admins keep the phrase patterns in `flows/crisis.yaml` (its header explains the pattern syntax). Each pattern is
compiled once, at load, into a regular expression over the message's normalised words, so reading a message is a
handful of regex searches. A match answers first with 911 (and naloxone for an overdose) when the danger is
immediate, and always with 988 and the Crisis Text Line; the hotlines follow as on every reply. The conversation is
kept, so the person can go on with the menu afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.core.flow_loader import FlowError, Problem, read_file, read_yaml
from bot.core.text import unmask

LEVELS = ("emergency", "support")
REPLY_KEYS = ("emergency", "overdose", "support", "go_on", "go_on_voice")
DEFAULT_GAP = 3
MAX_GAP = 9
# Automatic spelling slips: a swapped pair of letters in words this long or longer, a missing letter in
# words this long or longer (shorter words collide with other words too often: "bridge" and "bride").
SWAP_MIN = 6
DROP_MIN = 8

_CANONICAL = (
    (re.compile(r"\bo\.?d\.?(?:'e?d|ed)\b"), " overdosed "),
    (re.compile(r"\bo\.d\.?(?=\s|$)"), " od "),
)
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_NOT_PATTERN = re.compile(r"[^a-z0-9 ()\[\]|~*@_<>$]+")
_SPACES = re.compile(r"\s+")
_RUNS = re.compile(r"([a-z])\1{2,}")  # "killll", "diiie": a letter held down
_DOUBLE = re.compile(r"([a-z])\1")
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
    for pattern, replacement in _CANONICAL:
        plain = pattern.sub(replacement, plain)
    return _SPACES.sub(" ", keep.sub(" ", plain.replace("'", ""))).strip()


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
class _Compiled:
    """One category's patterns as one regex: group i+1 is `sources[i]`."""

    category: Category
    regex: re.Pattern[str]
    sources: tuple[tuple[str, str], ...]  # (language, pattern as written)


@dataclass(frozen=True)
class Spelling:
    """How a message's words are brought to the words the patterns are written in."""

    phrases: re.Pattern[str] | None  # multi-word variants ("do not" -> "dont")
    words: dict[str, str]  # one-word variants, and slips of the patterns' words
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


@dataclass(frozen=True)
class CrisisScreen:
    """Phrase patterns per category, the figures of speech that cancel them, and the words of the answer."""

    categories: tuple[Category, ...]
    exceptions: tuple[str, ...]
    replies: dict[str, dict[str, str]]
    languages: tuple[str, ...]
    source: str = ""
    compiled: tuple[_Compiled, ...] = field(default=(), repr=False, compare=False)
    cancel: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    spelling: Spelling = field(default_factory=lambda: Spelling(None, {}), repr=False, compare=False)

    def read(self, text: str) -> str:
        """The words the patterns are matched against: normalised, spelling mended, figures of speech cut out
        (each leaves a `|` no pattern reaches across)."""
        padded = self.spelling.apply(normalise(text))
        return self.cancel.sub("| ", padded) if self.cancel is not None else padded

    def match(self, text: str) -> CrisisMatch | None:
        """The most urgent category named in `text`, in any language, or None."""
        if not text or not text.strip():
            return None
        padded = self.read(text)
        for compiled in self.compiled:  # most urgent first
            found = compiled.regex.search(padded)
            if found is not None and found.lastindex:
                language, phrase = compiled.sources[found.lastindex - 1]
                c = compiled.category
                return CrisisMatch(c.name, c.level, c.overdose, phrase, language)
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
    lists: dict[str, str]
    seen: set[str] = field(default_factory=set)  # every word written so far: the vocabulary

    def literal(self, words: str) -> str:
        """A run of plain words, spelled as the mended message will spell them."""
        padded = f" {words} "
        for variant, canonical in self.multiword:
            padded = padded.replace(f" {variant} ", f" {canonical} ")
        out = [self.spelling.get(w, w) for w in padded.split()]
        self.seen.update(w for item in out for w in item.split())
        return " ".join(out)

    def word(self, token: str, where: str) -> tuple[str, bool]:
        """One word of a pattern as regex, and whether it is a real word (not `*`)."""
        if token == "*":
            return _ANY_WORD, False
        if token == "<number>":
            return _NUMBER, False
        if token.startswith("@"):
            if not _LIST_NAME.fullmatch(token) or token[1:] not in self.lists:
                raise PatternError(f"{where}: unknown list {token!r} (lists: {', '.join(sorted(self.lists)) or 'none'})")
            return self.lists[token[1:]], True
        stem, star = (token[:-1], True) if token.endswith("*") else (token, False)
        if not _LITERAL.fullmatch(stem):
            raise PatternError(f"{where}: {token!r} is not a word (letters and digits, `*` only at its end)")
        if star:
            self.seen.add(stem)
            return _forgive_doubles(stem) + "[a-z0-9]*", True
        return _forgive_doubles(self.literal(stem)), True


def _tokens(pattern: str) -> list[str]:
    return _PATTERN_TOKEN.findall(_plain(pattern, _NOT_PATTERN))


def _sequence(tokens: list[str], words: _Words, where: str) -> str:
    """Plain words in a row (one alternative of a group), as regex ending in a space."""
    out = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.append(_forgive_doubles(words.literal(" ".join(run))) + " ")  # letters and digits: no escaping
            run.clear()

    for token in tokens:
        if _LITERAL.fullmatch(token):
            run.append(token)
        else:
            flush()
            out.append(words.word(token, where)[0] + " ")
    flush()
    return "".join(out)


def compile_pattern(pattern: str, words: _Words) -> str:
    """A pattern as a regex over a padded, normalised message (see the syntax in flows/crisis.yaml)."""
    tokens = _tokens(pattern)
    where = repr(pattern.strip())
    if not tokens:
        raise PatternError(f"{where}: empty pattern")
    parts: list[str] = []
    required = False
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
            if any(t in ("(", "[", ")", "]") for t in inner):
                raise PatternError(f"{where}: groups cannot be nested")
            alternatives: list[list[str]] = [[]]
            for t in inner:
                if t == "|":
                    alternatives.append([])
                else:
                    alternatives[-1].append(t)
            if any(not a for a in alternatives):
                raise PatternError(f"{where}: an empty choice in `{token}...{close}` (optional words go in [ ])")
            body = "|".join(_sequence(a, words, where) for a in alternatives)
            if token == "(":
                parts.append(f"(?:{body})")
                required = required or all(any(words.word(t, where)[1] for t in a) for a in alternatives)
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
        run = tokens[i:j]
        parts.append(_sequence(run, words, where))
        required = required or any(words.word(t, where)[1] for t in run)
        i = j
    if previous_gap:
        raise PatternError(f"{where}: `~` must stand between two words")
    if not required:
        raise PatternError(f"{where}: needs at least one word that is neither optional nor `*` or `<number>`")
    return "".join(parts)


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
    lists: dict[str, str] = {}
    node = raw.get("lists") or CommentedMap()
    if not isinstance(node, CommentedMap):
        problems.append(Problem(where, _line(raw, "lists"), "lists must map a name to its words"))
        node = CommentedMap()
    plain_words = _Words(spelling, tuple(multiword), {})
    for name, items in node.items():
        if not _LIST_NAME.fullmatch(f"@{name}") or not isinstance(items, list) or not items:
            problems.append(Problem(where, _line(node, name), f"lists.{name}: a lower-case name and a list of words"))
            continue
        entries = []
        for index, item in enumerate(items):
            tokens = _tokens(str(item))
            try:
                if not tokens or any(not (_LITERAL.fullmatch(t) or t.endswith("*")) for t in tokens):
                    raise PatternError(f"{str(item)!r}: list entries are plain words (`*` may end one)")
                entries.append(_sequence(tokens, plain_words, repr(str(item))).rstrip(" "))
            except PatternError as exc:
                problems.append(Problem(where, _item_line(items, index, _line(node, name)), f"lists.{name}: {exc}"))
        lists[str(name)] = "(?:" + "|".join(sorted(set(entries), key=len, reverse=True)) + ")"
    return _Words(spelling, tuple(multiword), lists, plain_words.seen)


def _patterns(
    node: object, label: str, languages: tuple[str, ...], words: _Words, where: str, line: int, problems: list[Problem]
) -> list[tuple[str, str, str]]:
    """(language, pattern as written, regex) for each pattern under a per-language mapping."""
    out: list[tuple[str, str, str]] = []
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
                problems.append(Problem(where, line, f"{label}.{lang}: not a line of text (quote a pattern that begins with [ or @)"))
                continue
            text = item
            try:
                out.append((str(lang), text, compile_pattern(text, words)))
            except PatternError as exc:
                problems.append(Problem(where, _item_line(items, index, _line(node, lang)), f"{label}.{lang}: {exc}"))
    return out


def parse_crisis(text: str, where: str) -> CrisisScreen:
    """Read and check crisis phrases from YAML text; `where` names it in problems."""
    raw = read_yaml(text, where)
    problems: list[Problem] = []
    if not isinstance(raw, CommentedMap):
        raise FlowError([Problem(where, 1, "the crisis file must be a mapping")])
    languages = tuple(str(x) for x in raw.get("languages") or ["en"])
    words = _read_words(raw, where, problems)
    categories: list[tuple[Category, list[tuple[str, str, str]]]] = []
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
            problems.append(Problem(where, _line(cats, name), f"category {name!r}: level must be one of {list(LEVELS)}"))
        found = _patterns(
            node.get("phrases"), f"category {name!r}", languages, words, where, _line(cats, name), problems
        )
        if not found:
            problems.append(Problem(where, _line(cats, name), f"category {name!r} has no phrases"))
        category = Category(str(name), level, bool(node.get("overdose", False)), tuple(p for _, p, _ in found))
        categories.append((category, found))
    cancels = _patterns(raw.get("except") or CommentedMap(), "except", languages, words, where, _line(raw, "except"),
                        problems)
    replies = _read_replies(raw, languages, where, problems)
    if problems:
        raise FlowError(problems)
    compiled = []
    for category, found in sorted(categories, key=lambda c: _rank(c[0]), reverse=True):
        regex = re.compile("(?<= )(?:" + "|".join(f"({r})" for _, _, r in found) + ")")
        compiled.append(_Compiled(category, regex, tuple((lang, p) for lang, p, _ in found)))
    cancel = re.compile("(?<= )(?:" + "|".join(r for _, _, r in cancels) + ")") if cancels else None
    return CrisisScreen(
        tuple(c for c, _ in categories),
        tuple(p for _, p, _ in cancels),
        replies,
        languages,
        where,
        tuple(compiled),
        cancel,
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
