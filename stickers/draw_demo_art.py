"""Draw the art of the demo sticker packs with Pillow: shapes, gradients and transparency.

Run from the repository root to redraw every source image of ``spring-birds`` and
``paper-planes`` (the PNGs are committed, so the site shows real packs on a fresh clone):

    .venv/bin/python stickers/draw_demo_art.py

Everything is drawn at twice the output size and scaled down, which smooths the edges. The
drawing is deterministic: the same Pillow gives the same pixels.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
SIZE = 1024  # output
S = 2 * SIZE  # drawing scale
Colour = tuple[int, int, int]
Box = tuple[float, float, float, float]


Drawing = Callable[[], Image.Image]
DRAWINGS: dict[tuple[str, str], Drawing] = {}


def drawing(pack: str, name: str) -> Callable[[Drawing], Drawing]:
    """Register a function that draws ``stickers/<pack>/<name>``."""
    def register(draw: Drawing) -> Drawing:
        DRAWINGS[(pack, name)] = draw
        return draw
    return register


# --- painting helpers -------------------------------------------------------------------------

def rgb(hex_colour: str) -> Colour:
    value = hex_colour.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def blank() -> Image.Image:
    return Image.new("RGBA", (S, S), (0, 0, 0, 0))


def gradient(top: str, bottom: str, angle: float = 0.0) -> Image.Image:
    """A full-canvas gradient from ``top`` to ``bottom``, turned by ``angle`` degrees."""
    ramp = Image.linear_gradient("L").resize((S, S))
    if angle:
        ramp = ramp.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False,
                           fillcolor=128)
    start, end = Image.new("RGB", (S, S), rgb(top)), Image.new("RGB", (S, S), rgb(bottom))
    return Image.composite(end, start, ramp).convert("RGBA")


def mask(draw: Callable[[ImageDraw.ImageDraw], None]) -> Image.Image:
    shape = Image.new("L", (S, S), 0)
    draw(ImageDraw.Draw(shape))
    return shape


def paint(picture: Image.Image, shape: Image.Image, fill: str | Image.Image,
          opacity: float = 1.0) -> None:
    """Lay ``fill`` (a colour or an image) on ``picture`` through ``shape``."""
    layer = Image.new("RGBA", (S, S), rgb(fill)) if isinstance(fill, str) else fill.copy()
    alpha = shape if opacity >= 1.0 else shape.point(lambda v: int(v * opacity))
    layer.putalpha(ImageChops.multiply(layer.getchannel("A"), alpha))
    picture.alpha_composite(layer)


def ellipse(box: Box, angle: float = 0.0) -> Image.Image:
    shape = mask(lambda d: d.ellipse(box, fill=255))
    if angle:
        centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        shape = shape.rotate(angle, center=centre, resample=Image.Resampling.BICUBIC)
    return shape


def polygon(points: list[tuple[float, float]]) -> Image.Image:
    return mask(lambda d: d.polygon(points, fill=255))


def finish(picture: Image.Image, outline: int = 36) -> Image.Image:
    """The sticker look: a white outline and a soft shadow, then scaled to the output size."""
    alpha = picture.getchannel("A")
    grown = alpha.filter(ImageFilter.GaussianBlur(outline / 2)).point(
        lambda v: 255 if v > 6 else 0).filter(ImageFilter.GaussianBlur(2))
    shadow = grown.filter(ImageFilter.GaussianBlur(28)).point(lambda v: int(v * 0.35))
    result = blank()
    offset = Image.new("L", (S, S), 0)
    offset.paste(shadow, (0, 18))
    paint(result, offset, "#3a2f28")
    paint(result, grown, "#ffffff")
    result.alpha_composite(picture)
    return result.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def text(picture: Image.Image, centre: tuple[float, float], words: str, size: int,
         colour: str) -> None:
    font = ImageFont.load_default(size=size)
    ImageDraw.Draw(picture).text(centre, words, fill=colour, font=font, anchor="mm")


# --- spring birds -----------------------------------------------------------------------------

def bird(picture: Image.Image, cx: float, cy: float, r: float, body: tuple[str, str],
         belly: str, wing: str, facing: int = 1, eye: str = "open", wave: bool = False) -> None:
    """A round bird centred on (cx, cy) with body radius ``r``; ``facing`` 1 is right."""
    f = facing
    tail = [(cx - f * r * 0.7, cy + r * 0.1), (cx - f * r * 1.45, cy - r * 0.35),
            (cx - f * r * 1.35, cy + r * 0.2), (cx - f * r * 0.75, cy + r * 0.55)]
    paint(picture, polygon(tail), gradient(body[1], body[0], 90 * f))
    for dx in (-0.25, 0.2):
        legs = mask(lambda d, dx=dx: d.line([(cx + dx * r, cy + r * 0.85),
                                             (cx + dx * r, cy + r * 1.2)],
                                            fill=255, width=int(r * 0.08)))
        paint(picture, legs, "#e08a2e")
    paint(picture, ellipse((cx - r, cy - r, cx + r, cy + r)), gradient(body[0], body[1]))
    paint(picture, ellipse((cx + r * 0.25 * f - r * 0.62, cy - r * 0.12,
                            cx + r * 0.25 * f + r * 0.62, cy + r * 0.9)), belly)
    # a soft highlight, half transparent
    paint(picture, ellipse((cx - r * 0.6, cy - r * 0.85, cx + r * 0.1, cy - r * 0.35), -20),
          "#ffffff", 0.25)
    wing_box = (cx - f * r * 0.3 - r * 0.5, cy - r * 0.05, cx - f * r * 0.3 + r * 0.45,
                cy + r * 0.55)
    if wave:
        wing_box = (cx - f * r * 0.85 - r * 0.4, cy - r * 0.75, cx - f * r * 0.85 + r * 0.4,
                    cy + r * 0.05)
    paint(picture, ellipse(wing_box, 35 * f if not wave else -40 * f),
          gradient(wing, body[1], 20))
    ex, ey = cx + f * r * 0.38, cy - r * 0.3
    if eye == "happy":
        arc = mask(lambda d: d.arc((ex - r * 0.14, ey - r * 0.1, ex + r * 0.14, ey + r * 0.16),
                                   200, 340, fill=255, width=int(r * 0.06)))
        paint(picture, arc, "#1e1d1a")
    else:
        paint(picture, ellipse((ex - r * 0.13, ey - r * 0.15, ex + r * 0.13, ey + r * 0.15)),
              "#1e1d1a")
        paint(picture, ellipse((ex - r * 0.02, ey - r * 0.1, ex + r * 0.07, ey - r * 0.01)),
              "#ffffff")
    paint(picture, ellipse((ex - r * 0.1, ey + r * 0.2, ex + r * 0.22, ey + r * 0.36)),
          "#ff7a8a", 0.45)
    beak = [(cx + f * r * 0.78, cy - r * 0.28), (cx + f * r * 1.22, cy - r * 0.12),
            (cx + f * r * 0.8, cy + r * 0.02)]
    paint(picture, polygon(beak), gradient("#ffb347", "#e07b1f"))


def heart(picture: Image.Image, cx: float, cy: float, r: float, colour: str = "#e8434f",
          opacity: float = 1.0) -> None:
    shape = mask(lambda d: (d.ellipse((cx - r, cy - r * 0.8, cx, cy + r * 0.2), fill=255),
                            d.ellipse((cx, cy - r * 0.8, cx + r, cy + r * 0.2), fill=255),
                            d.polygon([(cx - r * 0.97, cy - r * 0.1), (cx + r * 0.97, cy - r * 0.1),
                                       (cx, cy + r * 1.05)], fill=255)))
    paint(picture, shape, gradient("#ff8a8a", colour) if opacity >= 1 else colour, opacity)


def note(picture: Image.Image, x: float, y: float, r: float, colour: str) -> None:
    shape = mask(lambda d: (d.ellipse((x - r, y - r * 0.75, x + r, y + r * 0.75), fill=255),
                            d.rectangle((x + r * 0.75, y - r * 3.2, x + r * 1.0, y), fill=255),
                            d.polygon([(x + r * 0.75, y - r * 3.2), (x + r * 2.0, y - r * 2.5),
                                       (x + r * 1.0, y - r * 2.4)], fill=255)))
    paint(picture, shape, colour)


def branch(picture: Image.Image, y: float) -> None:
    shape = mask(lambda d: d.line([(S * 0.08, y + 40), (S * 0.92, y - 30)], fill=255,
                                  width=int(S * 0.035)))
    paint(picture, shape, gradient("#8a5a3b", "#5b3a26", 90))
    for x in (S * 0.16, S * 0.5, S * 0.84):
        blossom(picture, x, y - 70 + (x - S / 2) * -0.08, S * 0.045)


def blossom(picture: Image.Image, x: float, y: float, r: float) -> None:
    for k in range(5):
        a = k * 2 * math.pi / 5
        px, py = x + math.cos(a) * r, y + math.sin(a) * r
        paint(picture, ellipse((px - r * 0.75, py - r * 0.75, px + r * 0.75, py + r * 0.75)),
              "#ffc4d6", 0.9)
    paint(picture, ellipse((x - r * 0.35, y - r * 0.35, x + r * 0.35, y + r * 0.35)), "#f7a541")


ROBIN = (("#a9764f", "#7a4f33"), "#f2643a", "#8d5f3f")
BLUE_TIT = (("#4f9be8", "#2f6fb5"), "#ffd84a", "#2a5c9a")
GOLDFINCH = (("#ffd23f", "#f1a81b"), "#fff1b0", "#2e2a26")
SPARROW = (("#b98d63", "#87623f"), "#efdcc1", "#6e4b2e")
SWALLOW = (("#33456e", "#1c2847"), "#f4ede4", "#1a2440")
WREN = (("#9b6a43", "#6f4a2c"), "#e6c9a3", "#7a5233")


C = S / 2


@drawing("spring-birds", "robin.png")
def robin() -> Image.Image:
    picture = blank()
    bird(picture, C, C + 60, S * 0.3, *ROBIN, eye="happy")
    return finish(picture)


@drawing("spring-birds", "blue-tit.png")
def blue_tit() -> Image.Image:
    picture = blank()
    bird(picture, C + 80, C + 60, S * 0.28, *BLUE_TIT, wave=True)
    paint(picture, ellipse((C - 20, C - 520, C + 340, C - 330), 12), "#1f3e73")  # cap
    return finish(picture)


@drawing("spring-birds", "goldfinch-singing.png")
def goldfinch_singing() -> Image.Image:
    picture = blank()
    bird(picture, C - 120, C + 120, S * 0.27, *GOLDFINCH, eye="happy")
    paint(picture, ellipse((C + 200, C - 130, C + 360, C + 30)), "#d8322b", 0.9)  # red face
    for k, (dx, dy) in enumerate(((520, -420), (700, -120), (360, -700))):
        note(picture, C + dx - 200, C + dy, 60, ("#3b7dd8", "#8e4fd1", "#e0533d")[k])
    return finish(picture)


@drawing("spring-birds", "swallow.png")
def swallow() -> Image.Image:
    picture = blank()
    paint(picture, polygon([(C - 700, C - 420), (C + 80, C - 40), (C - 120, C + 120)]),
          gradient("#3d5388", "#16203c", 45))
    paint(picture, polygon([(C + 700, C - 420), (C - 80, C - 40), (C + 120, C + 120)]),
          gradient("#3d5388", "#16203c", -45))
    paint(picture, polygon([(C - 90, C + 200), (C - 260, C + 720), (C - 40, C + 330),
                            (C, C + 420), (C + 40, C + 330), (C + 260, C + 720),
                            (C + 90, C + 200)]), "#1c2847")
    paint(picture, ellipse((C - 200, C - 260, C + 200, C + 340)), gradient("#33456e", "#1c2847"))
    paint(picture, ellipse((C - 130, C - 40, C + 130, C + 320)), "#f4ede4")
    paint(picture, ellipse((C - 110, C - 220, C + 110, C - 60)), "#c7442f")
    paint(picture, ellipse((C + 20, C - 200, C + 80, C - 140)), "#1e1d1a")
    for k in range(3):
        paint(picture, mask(lambda d, k=k: d.arc((C - 900 + k * 70, C + 300 + k * 70,
                                                   C - 300 - k * 70, C + 900 - k * 70),
                                                  200, 260, fill=255, width=26)),
              "#9cc9f5", 0.7)
    return finish(picture)


@drawing("spring-birds", "sparrow-heart.png")
def sparrow_heart() -> Image.Image:
    picture = blank()
    bird(picture, C - 60, C + 80, S * 0.29, *SPARROW)
    heart(picture, C + 470, C + 130, 190)
    heart(picture, C + 560, C - 380, 90, "#ff8aa0", 0.6)
    return finish(picture)


@drawing("spring-birds", "nest.png")
def nest() -> Image.Image:
    picture = blank()
    paint(picture, ellipse((C - 720, C - 80, C + 720, C + 560)), gradient("#a87444", "#6b4425"))
    for k, colour in enumerate(("#bfe3f2", "#d9f0c9", "#bfe3f2")):
        x, lift = C - 360 + k * 360, (k % 2) * 40
        paint(picture, ellipse((x - 170, C - 420 + lift, x + 170, C + 60 + lift)),
              gradient("#ffffff", colour))
        paint(picture, ellipse((x - 90, C - 330, x - 20, C - 250)), "#7fb0c9", 0.5)
    paint(picture, ellipse((C - 760, C + 40, C + 760, C + 620)), gradient("#c08a55", "#7a4d2a"))
    for k in range(9):
        y = C + 120 + k * 50
        paint(picture, mask(lambda d, y=y, k=k: d.arc((C - 700 + k * 20, y - 80,
                                                        C + 700 - k * 20, y + 80),
                                                       10, 170, fill=255, width=14)),
              "#5b3a22", 0.55)
    return finish(picture)


@drawing("spring-birds", "wren-coffee.png")
def wren_coffee() -> Image.Image:
    picture = blank()
    bird(picture, C - 170, C + 60, S * 0.26, *WREN, eye="happy")
    cup = polygon([(C + 240, C + 40), (C + 720, C + 40), (C + 660, C + 520), (C + 300, C + 520)])
    paint(picture, cup, gradient("#ffffff", "#d8d2c6"))
    paint(picture, mask(lambda d: d.arc((C + 620, C + 110, C + 860, C + 380), 270, 90,
                                        fill=255, width=42)), "#d8d2c6")
    paint(picture, ellipse((C + 250, C - 10, C + 710, C + 90)), "#7b4a2a")
    for dx in (330, 480, 620):
        paint(picture, mask(lambda d, dx=dx: d.arc((C + dx - 60, C - 330, C + dx + 60, C - 60),
                                                    120, 240, fill=255, width=22)),
              "#ffffff", 0.7)
    return finish(picture)


@drawing("spring-birds", "duet.png")
def duet() -> Image.Image:
    picture = blank()
    branch(picture, C + 400)
    bird(picture, C - 400, C + 60, S * 0.18, *ROBIN, eye="happy")
    bird(picture, C + 400, C + 40, S * 0.18, *BLUE_TIT, facing=-1, eye="happy")
    heart(picture, C, C - 330, 150)
    return finish(picture)


@drawing("spring-birds", "banner.png")
def banner() -> Image.Image:
    """The base of the personalised sticker: the name goes on the ribbon."""
    picture = blank()
    bird(picture, C, C - 260, S * 0.22, *ROBIN, eye="happy")
    ribbon = polygon([(C - 900, C + 160), (C + 900, C + 160), (C + 820, C + 360),
                      (C + 900, C + 560), (C - 900, C + 560), (C - 820, C + 360)])
    paint(picture, ribbon, gradient("#fffaf0", "#f1e4cc"))
    paint(picture, mask(lambda d: d.rectangle((C - 900, C + 160, C + 900, C + 560),
                                              outline=255, width=18)), "#c94f2c")
    return finish(picture)


# --- paper planes -----------------------------------------------------------------------------

def plane(picture: Image.Image, cx: float, cy: float, r: float, angle: float,
          colours: tuple[str, str] = ("#ffffff", "#cfe3ff")) -> None:
    points = [(r * 1.0, 0.0), (-r * 0.9, -r * 0.62), (-r * 0.45, 0.0), (-r * 0.9, r * 0.5)]
    fold = [(r * 1.0, 0.0), (-r * 0.45, 0.0), (-r * 0.6, r * 0.28)]
    a = math.radians(angle)

    def turn(p: tuple[float, float]) -> tuple[float, float]:
        return (cx + p[0] * math.cos(a) - p[1] * math.sin(a),
                cy + p[0] * math.sin(a) + p[1] * math.cos(a))

    paint(picture, polygon([turn(p) for p in points]), gradient(colours[0], colours[1], 30))
    paint(picture, polygon([turn(p) for p in fold]), "#8fb5e8", 0.8)


def trail(picture: Image.Image, points: list[tuple[float, float]], colour: str) -> None:
    for k in range(len(points) - 1):
        if k % 2 == 0:
            paint(picture, mask(lambda d, k=k: d.line([points[k], points[k + 1]], fill=255,
                                                      width=30)), colour, 0.8)


def cloud(picture: Image.Image, cx: float, cy: float, r: float, opacity: float = 1.0) -> None:
    shape = mask(lambda d: (d.ellipse((cx - r * 1.5, cy - r * 0.4, cx - r * 0.1, cy + r * 0.6),
                                      fill=255),
                            d.ellipse((cx - r * 0.8, cy - r * 0.9, cx + r * 0.6, cy + r * 0.5),
                                      fill=255),
                            d.ellipse((cx - r * 0.1, cy - r * 0.5, cx + r * 1.4, cy + r * 0.6),
                                      fill=255)))
    paint(picture, shape, gradient("#ffffff", "#e3eef8"), opacity)


@drawing("paper-planes", "plane.png")
def paper_plane() -> Image.Image:
    picture = blank()
    path = [(C - 820 + k * 90, C + 520 - 40 * math.sin(k / 2.2) - k * 30) for k in range(11)]
    trail(picture, path, "#6fa8e8")
    plane(picture, C + 230, C - 180, 560, -25)
    return finish(picture)


@drawing("paper-planes", "envelope-heart.png")
def envelope_heart() -> Image.Image:
    picture = blank()
    body = (C - 760, C - 420, C + 760, C + 520)
    paint(picture, mask(lambda d: d.rounded_rectangle(body, radius=90, fill=255)),
          gradient("#fff8ec", "#f1dfc2"))
    paint(picture, polygon([(C - 740, C - 380), (C, C + 120), (C + 740, C - 380)]), "#e9d3ad")
    paint(picture, polygon([(C - 740, C + 500), (C - 60, C + 20), (C + 60, C + 20),
                            (C + 740, C + 500)]), "#f6e7ce", 0.8)
    heart(picture, C, C + 10, 210)
    return finish(picture)


@drawing("paper-planes", "thank-you-star.png")
def thank_you_star() -> Image.Image:
    picture = blank()
    points = []
    for k in range(10):
        a = -math.pi / 2 + k * math.pi / 5
        reach = 820 if k % 2 == 0 else 380
        points.append((C + math.cos(a) * reach, C + 60 + math.sin(a) * reach))
    paint(picture, polygon(points), gradient("#ffe36e", "#f5a623"))
    paint(picture, ellipse((C - 170, C - 40, C - 80, C + 80)), "#3a2a12")
    paint(picture, ellipse((C + 80, C - 40, C + 170, C + 80)), "#3a2a12")
    paint(picture, mask(lambda d: d.arc((C - 170, C + 40, C + 170, C + 280), 20, 160, fill=255,
                                        width=34)), "#3a2a12")
    paint(picture, ellipse((C - 330, C + 100, C - 190, C + 200)), "#ff7a5a", 0.4)
    paint(picture, ellipse((C + 190, C + 100, C + 330, C + 200)), "#ff7a5a", 0.4)
    return finish(picture)


@drawing("paper-planes", "hello.png")
def hello() -> Image.Image:
    picture = blank()
    bubble = (C - 760, C - 560, C + 760, C + 360)
    paint(picture, mask(lambda d: d.rounded_rectangle(bubble, radius=320, fill=255)),
          gradient("#ffffff", "#e4f0ff"))
    paint(picture, polygon([(C - 420, C + 300), (C - 640, C + 760), (C - 140, C + 330)]),
          "#e4f0ff")
    text(picture, (C, C - 110), "hi!", 620, "#2f6fb5")
    return finish(picture)


@drawing("paper-planes", "rainbow.png")
def rainbow() -> Image.Image:
    picture = blank()
    bands = ("#e8434f", "#f5a623", "#ffd84a", "#5cc46b", "#3b8fe0", "#8e5fd1")
    for k, colour in enumerate(bands):
        inset = k * 95
        paint(picture, mask(lambda d, inset=inset: d.pieslice(
            (C - 900 + inset, C - 640 + inset, C + 900 - inset, C + 1160 - inset), 180, 360,
            fill=255)), colour)
    hole = mask(lambda d: d.pieslice((C - 330, C - 70, C + 330, C + 590), 180, 360, fill=255))
    picture.putalpha(ImageChops.subtract(picture.getchannel("A"), hole))
    cloud(picture, C - 640, C + 300, 260)
    cloud(picture, C + 640, C + 300, 260)
    return finish(picture)


@drawing("paper-planes", "sunny.png")
def sunny() -> Image.Image:
    picture = blank()
    for k in range(12):
        a = k * math.pi / 6
        tip = (C + math.cos(a) * 880, C + math.sin(a) * 880)
        left = (C + math.cos(a - 0.16) * 560, C + math.sin(a - 0.16) * 560)
        right = (C + math.cos(a + 0.16) * 560, C + math.sin(a + 0.16) * 560)
        paint(picture, polygon([left, tip, right]), "#ffb02e", 0.85)
    paint(picture, ellipse((C - 560, C - 560, C + 560, C + 560)), gradient("#ffe66b", "#ffab2e"))
    for x in (C - 300, C + 60):
        paint(picture, mask(lambda d, x=x: d.arc((x, C - 200, x + 240, C + 20), 200, 340,
                                                  fill=255, width=36)), "#6b3a10")
    paint(picture, mask(lambda d: d.chord((C - 250, C - 20, C + 250, C + 330), 0, 180,
                                          fill=255)), "#8a3b1a")
    return finish(picture)


@drawing("paper-planes", "together.png")
def together() -> Image.Image:
    """Two planes whose dashed trails draw a heart."""
    picture = blank()
    path = []
    for k in range(41):
        t = math.pi * k / 40
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        path.append((x * 44, -y * 44 + 60))
    trail(picture, [(C + x, C + y) for x, y in path], "#f08aa8")
    trail(picture, [(C - x, C + y) for x, y in path], "#7fb2ec")
    plane(picture, C - 430, C - 560, 250, 215, ("#ffffff", "#cfe3ff"))
    plane(picture, C + 430, C - 560, 250, -35, ("#ffffff", "#ffd6e2"))
    heart(picture, C, C + 40, 170, "#e8434f", 0.9)
    return finish(picture)


def main(target: Path = HERE) -> list[Path]:
    """Draw every image into ``target/<pack>/``; returns the files written."""
    written = []
    for (pack, name), draw in DRAWINGS.items():
        folder = target / pack
        folder.mkdir(parents=True, exist_ok=True)
        draw().save(folder / name, optimize=True)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(path)
