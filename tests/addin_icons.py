"""The add-in's icons, drawn by code: one per ribbon command and one for the add-in itself.

    .venv/bin/python tests/addin_icons.py      # rewrites planvalidator/addin/files/static/images/icons/

Office asks for 16, 32 and 80 px ribbon images and a 32 and 64 px add-in icon (128 px for the
admin center's list); each size is drawn at 8x and scaled down, so small sizes stay crisp.
tests/test_addin_manifest.py checks that the committed PNGs are what this draws.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parent.parent / "planvalidator/addin/files/static/images/icons"
SIZES = (16, 32, 64, 80, 128)
SCALE = 8
BLUE, WHITE, GREEN = (31, 78, 120, 255), (255, 255, 255, 255), (0, 128, 64, 255)


# Each icon is drawn on a 100 x 100 grid: a rounded blue tile and a white sign.
def _tile(d: ImageDraw.ImageDraw, u) -> None:
    d.rounded_rectangle([u(4), u(4), u(96), u(96)], radius=u(16), fill=BLUE)


def _validate(d, u):        # a check mark
    d.line([(u(24), u(52)), (u(43), u(71)), (u(77), u(31))], fill=WHITE, width=u(13), joint="curve")


def _submit(d, u):          # an arrow up out of a tray
    d.polygon([(u(50), u(18)), (u(75), u(45)), (u(59), u(45)), (u(59), u(63)), (u(41), u(63)),
               (u(41), u(45)), (u(25), u(45))], fill=WHITE)
    d.line([(u(24), u(70)), (u(24), u(80)), (u(76), u(80)), (u(76), u(70))], fill=WHITE,
           width=u(8))


def _getplan(d, u):         # an arrow down into a tray
    d.polygon([(u(50), u(66)), (u(75), u(39)), (u(59), u(39)), (u(59), u(18)), (u(41), u(18)),
               (u(41), u(39)), (u(25), u(39))], fill=WHITE)
    d.line([(u(24), u(70)), (u(24), u(80)), (u(76), u(80)), (u(76), u(70))], fill=WHITE,
           width=u(8))


def _clear(d, u):           # a cell with a cross
    d.rectangle([u(22), u(22), u(78), u(78)], outline=WHITE, width=u(7))
    d.line([(u(36), u(36)), (u(64), u(64))], fill=WHITE, width=u(9))
    d.line([(u(64), u(36)), (u(36), u(64))], fill=WHITE, width=u(9))


def _findings(d, u):        # a list
    for y in (30, 50, 70):
        d.ellipse([u(22), u(y - 6), u(34), u(y + 6)], fill=WHITE)
        d.line([(u(42), u(y)), (u(78), u(y))], fill=WHITE, width=u(9))


def _addin(d, u):           # a sheet with a check
    d.rectangle([u(24), u(16), u(76), u(84)], fill=WHITE)
    d.line([(u(34), u(52)), (u(46), u(64)), (u(66), u(38))], fill=GREEN, width=u(9), joint="curve")


DRAW = {"getplan": _getplan, "validate": _validate, "submit": _submit, "clear": _clear,
        "findings": _findings, "addin": _addin}


def draw(name: str, size: int) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(image)
    u = lambda v: round(v * big / 100)   # noqa: E731 (grid units → pixels)
    _tile(d, u)
    DRAW[name](d, u)
    return image.resize((size, size), Image.LANCZOS)


def files() -> dict[str, Image.Image]:
    return {f"pv-{name}-{size}.png": draw(name, size) for name in DRAW for size in SIZES}


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for file_name, image in files().items():
        image.save(ICONS / file_name, optimize=True)


if __name__ == "__main__":
    main()
