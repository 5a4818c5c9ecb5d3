"""The text of each page of a PDF printed by Chromium (Skia's PDF writer), without a PDF library.

Enough PDF for the tests' questions (which page holds which text): objects are read from the file, page content
streams inflated (FlateDecode), and the glyph codes of every ``Tj`` / ``TJ`` mapped to characters through each
font's ``ToUnicode`` CMap (``bfchar`` and ``bfrange``). Skia writes no object streams, so every object is in the
file body; a PDF that uses them raises ``ValueError`` rather than giving a wrong answer.
"""

from __future__ import annotations

import re
import zlib

_OBJ = re.compile(rb"(\d+) 0 obj\s*(.*?)\s*endobj", re.S)


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    if b"/ObjStm" in pdf:
        raise ValueError("PDF uses object streams; this reader does not handle them")
    out = {}
    for m in _OBJ.finditer(pdf):
        body = m.group(2)
        stream = None
        if b"stream" in body:
            head, _, rest = body.partition(b"stream")
            rest = rest[2:] if rest.startswith(b"\r\n") else rest[1:]
            data = rest.rsplit(b"endstream", 1)[0]
            if b"/FlateDecode" in head:
                data = zlib.decompressobj().decompress(data)
            body, stream = head, data
        out[int(m.group(1))] = (body, stream)
    return out


def _cmap(data: bytes) -> dict[int, str]:
    out: dict[int, str] = {}

    def text(hexstr: bytes) -> str:
        raw = bytes.fromhex(hexstr.decode())
        return raw.decode("utf-16-be", errors="replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = text(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = chr(start + i)
    return out


def _ref(body: bytes, key: bytes) -> int | None:
    m = re.search(rb"/" + key + rb"\s+(\d+) 0 R", body)
    return int(m.group(1)) if m else None


def pages_text(pdf: bytes) -> list[str]:
    """The text of every page, in page order (glyph runs joined without spaces; a ``TJ`` gap adds none)."""
    objs = _objects(pdf)
    root = next(b for b, _ in objs.values() if re.search(rb"/Type\s*/Pages\b", b) and b"/Parent" not in b)
    order: list[int] = []

    def walk(body: bytes) -> None:
        kids = re.search(rb"/Kids\s*\[(.*?)\]", body, re.S)
        for n in re.findall(rb"(\d+) 0 R", kids.group(1) if kids else b""):
            kid = objs[int(n)][0]
            if re.search(rb"/Type\s*/Pages\b", kid):
                walk(kid)
            else:
                order.append(int(n))

    walk(root)
    cmaps: dict[int, dict[int, str]] = {}
    texts = []
    for page in order:
        body = objs[page][0]
        fonts = {}
        fdict = re.search(rb"/Font\s*<<(.*?)>>", body, re.S)
        for name, num in re.findall(rb"/(\w+)\s+(\d+) 0 R", fdict.group(1) if fdict else b""):
            fnum = int(num)
            if fnum not in cmaps:
                tu = _ref(objs[fnum][0], b"ToUnicode")
                cmaps[fnum] = _cmap(objs[tu][1] or b"") if tu is not None else {}
            fonts[name] = cmaps[fnum]
        contents = re.search(rb"/Contents\s*(\[.*?\]|\d+ 0 R)", body, re.S)
        streams = [objs[int(n)][1] or b"" for n in re.findall(rb"(\d+) 0 R", contents.group(1))] if contents else []
        out, current = [], {}
        for data in streams:
            for m in re.finditer(rb"/(\w+)\s+[\d.]+\s+Tf|\[((?:[^\]\\]|\\.)*)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj", data):
                if m.group(1) is not None:
                    current = fonts.get(m.group(1), {})
                    continue
                hexes = re.findall(rb"<([0-9A-Fa-f]*)>", m.group(2)) if m.group(2) is not None else [m.group(3)]
                for h in hexes:
                    codes = bytes.fromhex(h.decode())
                    for i in range(0, len(codes) - 1, 2):
                        out.append(current.get(int.from_bytes(codes[i:i + 2], "big"), "\ufffd"))
        texts.append("".join(out))
    return texts
