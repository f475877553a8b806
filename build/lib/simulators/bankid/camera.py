"""The phone's camera: read the QR code from the SVG idportal serves.

idportal never lets ``qrStartSecret`` reach the browser, so a test or load driver that
plays a citizen must read the QR like a phone does. segno's SVG draws dark modules as
horizontal runs in one path; we rebuild the module matrix and let zxing-cpp decode it.
"""

from __future__ import annotations

import re

import numpy as np
import zxingcpp

_PATH = re.compile(r'd="([^"]+)"')
_SIZE = re.compile(r'width="(\d+)"')
_SCALE = re.compile(r"scale\((\d+)\)")
_CMD = re.compile(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?")


def read_svg(svg: str) -> str:
    path = _PATH.search(svg)
    size, scale = _SIZE.search(svg), _SCALE.search(svg)
    if not path or not size or not scale:
        raise ValueError("not a segno QR SVG")
    modules = int(size.group(1)) // int(scale.group(1))
    grid = np.full((modules, modules), 255, dtype=np.uint8)
    x = y = 0.0
    for cmd, a, b in _CMD.findall(path.group(1)):
        if cmd == "M":
            x, y = float(a), float(b)
        elif cmd == "m":
            x, y = x + float(a), y + float(b)
        else:
            length = float(a)
            row = int(y - 0.5)
            grid[row, int(x):int(x + length)] = 0
            x += length
    image = np.kron(grid, np.ones((4, 4), dtype=np.uint8))
    result = zxingcpp.read_barcode(image)
    if result is None or not result.text:
        raise ValueError("no QR code found")
    return str(result.text)
