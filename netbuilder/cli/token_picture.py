"""`netbuilder explain` for a text: the tokens the network read, wrapped as running text, each on a background
coloured by its attribution (token_display's colours, as the Predict tab draws them), under a line saying what
is shown and over a legend line, written as a PNG with Pillow's own font."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from netbuilder.token_display import UNKNOWN_TOKEN, legend_hues, spaces_before, token_background

WIDTH = 900  # pixels: about 90 characters a line
MARGIN, PAD, GAP, LINE_GAP = 16, 4, 6, 6
FONT_SIZE = 18
WHITE, BLACK, GREY = (255, 255, 255), (20, 20, 20), (110, 110, 110)


def write_token_picture(
    path: Path, tokens: tuple[str, ...], heat: Any, *, signed: bool, title: str, target: str
) -> None:
    """The tokens coloured by `heat` (one value per position: [-1, 1] when `signed`, else [0, 1]) with `title`
    above them and the colours' legend (towards `target`, against it; or sizes) below; OSError when it cannot
    be written."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=FONT_SIZE)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line_height = FONT_SIZE + 2 * PAD
    boxes, x, y = [], 0, 0
    for token, space in zip(tokens, spaces_before(tokens), strict=True):
        width = measure.textlength(token, font=font) + 2 * PAD
        x += GAP if space else 1 if x else 0
        if x + width > WIDTH - 2 * MARGIN and x > 0:
            x, y = 0, y + line_height + LINE_GAP
        boxes.append((x, y, width))
        x += width
    text_height = y + line_height if boxes else 0
    top = MARGIN + line_height + LINE_GAP  # under the title
    height = top + text_height + LINE_GAP + line_height + MARGIN
    picture = Image.new("RGB", (WIDTH, height), WHITE)
    draw = ImageDraw.Draw(picture)
    draw.text((MARGIN, MARGIN + PAD), title, fill=BLACK, font=font)
    for i, (token, (x, y, width)) in enumerate(zip(tokens, boxes, strict=True)):
        box = (MARGIN + x, top + y, MARGIN + x + width, top + y + line_height)
        value = float(heat[i]) if i < len(heat) else 0.0
        draw.rounded_rectangle(box, radius=4, fill=token_background(value, signed, WHITE, dark=False))
        unknown = token == UNKNOWN_TOKEN
        if unknown:  # a word outside the vocabulary: grey and outlined, so it is not read as written
            draw.rounded_rectangle(box, radius=4, outline=GREY)
        draw.text((box[0] + PAD, box[1] + PAD), token, fill=GREY if unknown else BLACK, font=font)
    x, y = MARGIN, top + text_height + LINE_GAP + PAD
    for colour, meaning in legend_hues(signed, target, dark=False):
        draw.rectangle((x, y + 3, x + FONT_SIZE - 4, y + FONT_SIZE - 1), fill=colour)
        draw.text((x + FONT_SIZE + 2, y), meaning, fill=BLACK, font=font)
        x += FONT_SIZE + 2 + measure.textlength(meaning, font=font) + 3 * GAP
    draw.text((x, y), "· deeper: a larger share", fill=GREY, font=font)
    picture.save(path, format="PNG")
