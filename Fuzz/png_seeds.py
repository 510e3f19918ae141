#!/usr/bin/env python3
"""Writes the PNG fuzz seeds (Fuzz/corpus/png/seed-*): small images of every colour type and bit depth,
interlaced and not, with the ancillary chunks libpng's reader transforms (gAMA, sRGB, cHRM, tRNS, bKGD,
iCCP, tEXt/zTXt). Python's standard library only; the bytes are deterministic.

    python3 Fuzz/png_seeds.py
"""
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "png")


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def samples_per_pixel(colour):
    return {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]


def pack_row(values, depth):
    if depth == 8:
        return bytes(values)
    if depth == 16:
        return b"".join(struct.pack(">H", v) for v in values)
    out, acc, bits = bytearray(), 0, 0
    for v in values:
        acc = (acc << depth) | v
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def pixel_values(width, height, colour, depth):
    top = (1 << depth) - 1
    n = samples_per_pixel(colour)
    return [[[(x * 37 + y * 11 + c * 53) % (top + 1) for c in range(n)] for x in range(width)] for y in range(height)]


def scanlines(rows, depth, filter_type):
    data = b""
    for row in rows:
        flat = [v for pixel in row for v in pixel]
        data += bytes([filter_type]) + pack_row(flat, depth)
    return data


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png(width, height, colour, depth, interlace=0, extra=b"", palette=None, filter_type=0):
    pixels = pixel_values(width, height, colour, depth)
    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = [[pixels[y][x] for x in range(x0, width, dx)] for y in range(y0, height, dy)]
            if sub and sub[0]:
                raw += scanlines(sub, depth, filter_type)
    else:
        raw = scanlines(pixels, depth, filter_type)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))
    out += extra
    if palette is not None:
        out += chunk(b"PLTE", palette)
    idat = zlib.compress(raw, 9)
    out += chunk(b"IDAT", idat[: len(idat) // 2]) + chunk(b"IDAT", idat[len(idat) // 2 :])
    return out + chunk(b"IEND", b"")


def main():
    os.makedirs(OUT, exist_ok=True)
    palette = bytes(v for i in range(16) for v in (i * 16, 255 - i * 16, (i * 73) % 256))
    gamma = chunk(b"gAMA", struct.pack(">I", 45455))
    chrm = chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000))
    text = chunk(b"tEXt", b"Comment\x00fuzz seed") + chunk(b"zTXt", b"Title\x00\x00" + zlib.compress(b"seed"))
    icc = chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"\x00" * 128))
    seeds = {
        "seed-gray1.png": png(9, 5, 0, 1),
        "seed-gray4-interlaced.png": png(11, 9, 0, 4, interlace=1),
        "seed-gray8-gamma.png": png(8, 8, 0, 8, extra=gamma + text),
        "seed-gray16-trns.png": png(5, 4, 0, 16, extra=chunk(b"tRNS", struct.pack(">H", 0))),
        "seed-rgb8-paeth.png": png(7, 6, 2, 8, filter_type=4, extra=chunk(b"sRGB", b"\x00")),
        "seed-rgb16-interlaced.png": png(10, 10, 2, 16, interlace=1, extra=chrm + gamma),
        "seed-gray-alpha8.png": png(4, 4, 4, 8, extra=chunk(b"bKGD", struct.pack(">H", 128))),
        "seed-rgba16-icc.png": png(3, 7, 6, 16, extra=icc),
        "seed-rgba8-sub.png": png(12, 2, 6, 8, filter_type=1),
    }
    # Palette with transparency: tRNS must follow PLTE.
    pal = png(6, 3, 3, 4, palette=palette)
    plte_end = pal.index(b"IDAT") - 4
    seeds["seed-palette4-trns.png"] = pal[:plte_end] + chunk(b"tRNS", bytes([0, 128, 255])) + pal[plte_end:]
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
