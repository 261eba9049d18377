"""How a text's tokens are shown with their attributions, shared by the Predict tab and `netbuilder explain`:
where a space goes between tokens, and the colour behind each token. Integrated gradients are signed (blue
where a token pushed towards the explained class, orange where it pushed against it); saliency gives sizes
only (purple). The deeper the colour, the larger the token's share. Blue and orange stay apart from the
green and red that say right and wrong, and read for people who confuse red and green. Plain Python: the
window draws with it before torch (or numpy) is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence

UNKNOWN_TOKEN = "<unk>"  # train.py's token for a word outside the vocabulary (tokenize never makes it from text)
NO_SPACE_BEFORE = frozenset(".,!?;:)]}%")  # punctuation that sits against the word before it
NO_SPACE_AFTER = frozenset("([{")

# RGB hues, the light theme's then the dark theme's: deep enough to read dark text over on light, light
# enough to read light text over on dark, once mixed into the background as far as STRONGEST
TOWARDS = ((33, 113, 181), (74, 150, 230))
AGAINST = ((230, 97, 1), (245, 140, 50))
SIZE = ((128, 80, 170), (170, 120, 220))
STRONGEST = 0.62  # how far the largest attribution's colour goes from the background to its hue


def spaces_before(tokens: Sequence[str], word_starts: Sequence[bool] | None = None) -> list[bool]:
    """Whether a space goes before each token, so that tokens read as the text did ("it was great!"); with
    `word_starts` (byte pairs), none before a piece that continues a word."""
    spaced = []
    for i, token in enumerate(tokens):
        after_opening = i > 0 and tokens[i - 1] in NO_SPACE_AFTER
        continues = word_starts is not None and i < len(word_starts) and not word_starts[i]
        spaced.append(i > 0 and not after_opening and not continues and token not in NO_SPACE_BEFORE)
    return spaced


def joined(tokens: Sequence[str], word_starts: Sequence[bool] | None = None) -> str:
    """The tokens as one line of text, spaced as `spaces_before` says."""
    spaces = spaces_before(tokens, word_starts)
    return "".join((" " if space else "") + token for token, space in zip(tokens, spaces, strict=True))


def token_background(
    value: float, signed: bool, background: tuple[int, int, int], *, dark: bool, opacity: float = 1.0
) -> tuple[int, int, int]:
    """The colour behind a token whose attribution is `value` (in [-1, 1] when `signed`, else [0, 1]): the
    background mixed towards the hue of its sign (or of size) by its magnitude, as far as `opacity` allows."""
    hue = (TOWARDS if value >= 0 else AGAINST) if signed else SIZE
    amount = min(1.0, abs(value)) * STRONGEST * max(0.0, min(1.0, opacity))
    rgb = hue[1 if dark else 0]
    return tuple(round(b + (h - b) * amount) for b, h in zip(background, rgb, strict=True))


def legend_hues(signed: bool, target: str, *, dark: bool) -> list[tuple[tuple[int, int, int], str]]:
    """(colour, what it means) for the legend line under the tokens: for the class `target`, or (no class:
    a network that gives values) for its first output value."""
    shade = 1 if dark else 0
    if signed:
        meanings = (f"towards {target}", "against it") if target else ("raises the output", "lowers it")
        return [(TOWARDS[shade], meanings[0]), (AGAINST[shade], meanings[1])]
    moved = f"the score of {target}" if target else "the output"
    return [(SIZE[shade], f"how much {moved} moves with the token (size, not direction)")]


def attribution_words(token: str, value: float, signed: bool, target: str) -> str:
    """A token's attribution in words, for its tooltip: "great: +0.84 towards pos"."""
    if signed:
        direction = "towards" if value >= 0 else "against"
        number = f"{value:+.2f}".replace("-", "\u2212")
        return f"{token}: {number} ({direction} {target})" if target else f"{token}: {number}"
    return f"{token}: {value:.2f} of the largest"
