"""Draw mockbin's sample images (``/image/png``, ``/image/jpeg``, ``/image/webp``).

Run from the repository root with Pillow installed (a test dependency, never a
runtime one)::

    python tools/make_images.py

The picture -- a lighthouse on a rock at dusk -- is drawn here from plain
shapes, so the files are mockbin's own.  The output is deterministic: running
the script again rewrites the same bytes, and the committed files under
``mockbin/assets/`` are what the server sends.  ``image.svg`` is written by
hand and is not touched by this script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Tuple

from PIL import Image, ImageDraw

ASSETS = Path(__file__).resolve().parent.parent / "mockbin" / "assets"
SCALE = 4  # draw large, then downsample: cheap anti-aliasing

Color = Tuple[int, int, int]
SKY_TOP: Color = (28, 36, 84)
SKY_BOTTOM: Color = (246, 160, 96)
SEA: Color = (24, 70, 112)
ROCK: Color = (62, 58, 64)
WHITE: Color = (244, 242, 236)
RED: Color = (196, 48, 52)
LAMP: Color = (255, 226, 120)


def blend(a: Color, b: Color, t: float) -> Color:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def draw_scene(width: int, height: int) -> Image.Image:
    """The lighthouse picture at *width* x *height* pixels."""
    w, h = width * SCALE, height * SCALE
    image = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(image)
    horizon = int(h * 0.68)

    for y in range(horizon):  # dusk sky, dark at the top
        draw.line([(0, y), (w, y)], fill=blend(SKY_TOP, SKY_BOTTOM, y / horizon))
    for y in range(horizon, h):  # sea, darker towards the viewer
        draw.line([(0, y), (w, y)], fill=blend(SEA, SKY_TOP, (y - horizon) / (h - horizon)))
    for i in range(6):  # light on the waves
        y = horizon + (i + 1) * (h - horizon) // 8
        x = int(w * (0.1 + 0.13 * i))
        draw.line([(x, y), (x + w // 10, y)], fill=blend(SEA, LAMP, 0.45), width=SCALE)

    moon = (int(w * 0.16), int(h * 0.16), int(w * 0.07))
    draw.ellipse([moon[0] - moon[2], moon[1] - moon[2], moon[0] + moon[2], moon[1] + moon[2]], fill=WHITE)

    base_y = int(h * 0.8)
    draw.polygon(  # the rock
        [(int(w * 0.48), h), (int(w * 0.52), base_y), (int(w * 0.66), int(h * 0.74)),
         (int(w * 0.86), base_y), (int(w * 0.94), h)],
        fill=ROCK,
    )

    left_bottom, right_bottom = int(w * 0.63), int(w * 0.77)
    left_top, right_top = int(w * 0.66), int(w * 0.74)
    top = int(h * 0.34)
    bottom = int(h * 0.78)
    stripes = 5
    for i in range(stripes):  # tapering tower in red and white bands
        y0 = bottom - (bottom - top) * i // stripes
        y1 = bottom - (bottom - top) * (i + 1) // stripes
        t0, t1 = i / stripes, (i + 1) / stripes
        draw.polygon(
            [(round(left_bottom + (left_top - left_bottom) * t0), y0),
             (round(right_bottom + (right_top - right_bottom) * t0), y0),
             (round(right_bottom + (right_top - right_bottom) * t1), y1),
             (round(left_bottom + (left_top - left_bottom) * t1), y1)],
            fill=RED if i % 2 == 0 else WHITE,
        )

    lamp_top = int(h * 0.25)
    centre_x = (left_top + right_top) // 2
    draw.polygon(  # beams
        [(centre_x, (lamp_top + top) // 2), (0, int(h * 0.18)), (0, int(h * 0.36))],
        fill=blend(SKY_BOTTOM, LAMP, 0.5),
    )
    draw.polygon(
        [(centre_x, (lamp_top + top) // 2), (w, int(h * 0.2)), (w, int(h * 0.32))],
        fill=blend(SKY_BOTTOM, LAMP, 0.5),
    )
    draw.rectangle([left_top, lamp_top, right_top, top], fill=LAMP)
    draw.polygon(  # roof
        [(left_top - SCALE * 3, lamp_top), (right_top + SCALE * 3, lamp_top), (centre_x, int(h * 0.18))],
        fill=ROCK,
    )
    return image.resize((width, height), Image.LANCZOS)


def main() -> None:
    ASSETS.mkdir(parents=True, exist_ok=True)
    draw_scene(128, 128).save(ASSETS / "image.png", optimize=True)
    draw_scene(320, 240).save(ASSETS / "image.jpeg", quality=85, optimize=True)
    draw_scene(320, 240).save(ASSETS / "image.webp", quality=80, method=6)
    for name in ("image.png", "image.jpeg", "image.webp"):
        print(name, (ASSETS / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
