"""The language of a brief, when the client does not say: the voice-over speaks it.

A small stop-word vote over the languages our voices speak: briefs are short marketing text,
where a handful of function words ("the", "and", "le", "und", "el"...) decide reliably; a
brief with no clear winner is English. The client's `language` always wins over this guess.
"""

from __future__ import annotations

import re

DEFAULT_LANGUAGE = "en"

_STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "are",
            "for",
            "with",
            "your",
            "you",
            "our",
            "it",
            "this",
            "to",
            "of",
            "in",
            "on",
            "try",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "et",
            "est",
            "pour",
            "avec",
            "votre",
            "vous",
            "nous",
            "des",
            "du",
            "un",
            "une",
            "au",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "für",
            "mit",
            "ihr",
            "sie",
            "wir",
            "ein",
            "eine",
            "nicht",
            "zu",
            "den",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "y",
            "es",
            "para",
            "con",
            "tu",
            "su",
            "nuestro",
            "un",
            "una",
            "del",
            "por",
            "que",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "gli",
            "e",
            "è",
            "per",
            "con",
            "tuo",
            "suo",
            "nostro",
            "un",
            "una",
            "del",
            "che",
            "di",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "a",
            "os",
            "as",
            "e",
            "é",
            "para",
            "com",
            "seu",
            "sua",
            "nosso",
            "um",
            "uma",
            "do",
            "da",
            "que",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "is",
            "voor",
            "met",
            "jouw",
            "je",
            "onze",
            "van",
            "in",
            "op",
            "niet",
        ]
    ),
    "pl": frozenset(["i", "w", "na", "z", "jest", "do", "dla", "się", "nie", "to", "że", "twój"]),
    "sv": frozenset(
        ["och", "är", "för", "med", "din", "vår", "en", "ett", "att", "det", "på", "av"]
    ),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(text: str) -> str:
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return DEFAULT_LANGUAGE
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOP_WORDS.items()}
    best = max(scores, key=lambda lang: (scores[lang], lang == DEFAULT_LANGUAGE))
    return best if scores[best] > 0 else DEFAULT_LANGUAGE
