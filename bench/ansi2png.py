#!/usr/bin/env python3
"""Renders a terminal screen captured with `tmux capture-pane -e -p` (text with SGR colour escapes)
into a PNG, the way a terminal would show it: DejaVu Sans Mono for text, and the block elements,
Braille dots and box-drawing lines drawn as shapes so that half-block images and charts come out
pixel-exact at any cell size.

    python3 bench/ansi2png.py capture.ans screenshot.png --columns 200 --rows 60

Needs Pillow (`pip install pillow`) and the DejaVu fonts (Debian: fonts-dejavu-core).
"""
import argparse
import re

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
BACKGROUND = (18, 18, 18)
FOREGROUND = (208, 208, 208)
# xterm's default 16 colours.
BASIC = [
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
]
CUBE = [0, 95, 135, 175, 215, 255]


def palette(index):
    if index < 16:
        return BASIC[index]
    if index >= 232:
        level = 8 + 10 * (index - 232)
        return (level, level, level)
    cube = index - 16
    return (CUBE[cube // 36], CUBE[(cube // 6) % 6], CUBE[cube % 6])


class Cell:
    __slots__ = ("char", "fg", "bg", "bold", "reverse")

    def __init__(self, char=" ", fg=None, bg=None, bold=False, reverse=False):
        self.char, self.fg, self.bg, self.bold, self.reverse = char, fg, bg, bold, reverse


def parse(text, columns, rows):
    """The screen as rows of cells, from capture-pane's lines and SGR escapes."""
    screen = [[Cell() for _ in range(columns)] for _ in range(rows)]
    state = {"fg": None, "bg": None, "bold": False, "reverse": False}
    for y, line in enumerate(text.split("\n")[:rows]):
        x = 0
        for token in re.split(r"(\x1b\[[0-9;:]*m)", line):
            if token.startswith("\x1b["):
                apply_sgr(token[2:-1], state)
                continue
            for char in token:
                if x < columns:
                    screen[y][x] = Cell(char, state["fg"], state["bg"], state["bold"], state["reverse"])
                x += 1
    return screen


def apply_sgr(codes, state):
    """Updates the drawing state from one SGR sequence's parameters (`1;38;5;208`, `38:2::r:g:b`)."""
    params = codes.split(";") if codes else ["0"]
    i = 0
    while i < len(params):
        if ":" in params[i]:  # 38:5:n, 38:2:r:g:b, 38:2::r:g:b, 38:2:space:r:g:b
            sub = [int(v) if v else None for v in params[i].split(":")]
            if sub[0] in (38, 48) and len(sub) > 2:
                key = "fg" if sub[0] == 38 else "bg"
                state[key] = palette(sub[2]) if sub[1] == 5 else tuple([v for v in sub[2:] if v is not None][-3:])
            i += 1
            continue
        code = int(params[i]) if params[i] else 0
        if code in (38, 48) and i + 1 < len(params):
            key = "fg" if code == 38 else "bg"
            if params[i + 1] == "5":
                state[key] = palette(int(params[i + 2]))
                i += 3
            else:
                state[key] = tuple(int(v) for v in params[i + 2:i + 5])
                i += 5
            continue
        if code == 0:
            state.update(fg=None, bg=None, bold=False, reverse=False)
        elif code == 1:
            state["bold"] = True
        elif code == 22:
            state["bold"] = False
        elif code == 7:
            state["reverse"] = True
        elif code == 27:
            state["reverse"] = False
        elif code == 39:
            state["fg"] = None
        elif code == 49:
            state["bg"] = None
        elif 30 <= code <= 37:
            state["fg"] = BASIC[code - 30]
        elif 40 <= code <= 47:
            state["bg"] = BASIC[code - 40]
        elif 90 <= code <= 97:
            state["fg"] = BASIC[code - 90 + 8]
        elif 100 <= code <= 107:
            state["bg"] = BASIC[code - 100 + 8]
        i += 1


def draw_shape(draw, char, x, y, w, h, fg, bg):
    """Draws block elements, Braille patterns and box-drawing lines; False for anything else."""
    code = ord(char)
    if char == "▀":
        draw.rectangle([x, y, x + w - 1, y + h // 2 - 1], fill=fg)
        return True
    if char == "█":
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill=fg)
        return True
    if 0x2589 <= code <= 0x258F:  # left seven eighths ... left one eighth
        eighths = 0x2590 - code
        draw.rectangle([x, y, x + max(w * eighths // 8, 1) - 1, y + h - 1], fill=fg)
        return True
    if char == "▕":
        draw.rectangle([x + w - max(w // 8, 1), y, x + w - 1, y + h - 1], fill=fg)
        return True
    if char in "░▒▓":
        share = {"░": 0.25, "▒": 0.5, "▓": 0.75}[char]
        mix = tuple(int(b + (f - b) * share) for f, b in zip(fg, bg))
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill=mix)
        return True
    if 0x2800 <= code <= 0x28FF:
        bits = code - 0x2800
        dots = [(0, 0, 0x01), (0, 1, 0x02), (0, 2, 0x04), (1, 0, 0x08), (1, 1, 0x10), (1, 2, 0x20), (0, 3, 0x40), (1, 3, 0x80)]
        radius = max(min(w, h // 2) // 5, 1)
        for column, row, bit in dots:
            if bits & bit:
                cx = x + (2 * column + 1) * w // 4
                cy = y + (2 * row + 1) * h // 8
                draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=fg)
        return True
    lines = BOX.get(char)
    if lines is None:
        return False
    heavy = char in "━┃┏┓┗┛"
    thickness = max(w // 4, 2) if heavy else max(w // 8, 1)
    cx, cy = x + w // 2, y + h // 2
    half = thickness // 2
    for direction in lines:
        if direction == "l":
            draw.rectangle([x, cy - half, cx + half, cy - half + thickness - 1], fill=fg)
        elif direction == "r":
            draw.rectangle([cx - half, cy - half, x + w - 1, cy - half + thickness - 1], fill=fg)
        elif direction == "u":
            draw.rectangle([cx - half, y, cx - half + thickness - 1, cy + half], fill=fg)
        elif direction == "d":
            draw.rectangle([cx - half, cy - half, cx - half + thickness - 1, y + h - 1], fill=fg)
    return True


# Which arms each box-drawing character has (rounded corners drawn square).
BOX = {
    "─": "lr", "━": "lr", "│": "ud", "┃": "ud", "╭": "rd", "┏": "rd", "╮": "ld", "┓": "ld", "╰": "ru", "┗": "ru",
    "╯": "lu", "┛": "lu", "┤": "lud", "├": "rud", "┬": "lrd", "┴": "lru", "└": "ru", "┘": "lu", "┌": "rd", "┐": "ld", "┼": "lrud",
}


def render(screen, cell_width, cell_height, font_size):
    rows, columns = len(screen), len(screen[0])
    image = Image.new("RGB", (columns * cell_width, rows * cell_height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    regular = ImageFont.truetype(FONT, font_size)
    bold = ImageFont.truetype(BOLD, font_size)
    for y, row in enumerate(screen):
        for x, cell in enumerate(row):
            fg = cell.fg or FOREGROUND
            bg = cell.bg or BACKGROUND
            if cell.reverse:
                fg, bg = bg, fg
            left, top = x * cell_width, y * cell_height
            draw.rectangle([left, top, left + cell_width - 1, top + cell_height - 1], fill=bg)
            if cell.char == " ":
                continue
            if not draw_shape(draw, cell.char, left, top, cell_width, cell_height, fg, bg):
                font = bold if cell.bold else regular
                draw.text((left, top + cell_height * 0.08), cell.char, font=font, fill=fg)
    return image


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture")
    parser.add_argument("output")
    parser.add_argument("--columns", type=int, required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--cell", default="10x20", help="cell size in pixels, WIDTHxHEIGHT")
    arguments = parser.parse_args()
    width, height = (int(v) for v in arguments.cell.split("x"))
    with open(arguments.capture, encoding="utf-8") as file:
        screen = parse(file.read(), arguments.columns, arguments.rows)
    render(screen, width, height, font_size=int(height * 0.8)).save(arguments.output, optimize=True)


if __name__ == "__main__":
    main()
