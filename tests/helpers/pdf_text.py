"""The text a PDF draws, read from its content streams: enough to check what an evidence PDF says."""

from __future__ import annotations

import re
import zlib
from pathlib import Path


def pdf_text(path: Path) -> str:
    """Every string shown with Tj, in drawing order, one a line (escapes undone)."""
    data = path.read_bytes()
    assert data.startswith(b"%PDF-"), "not a PDF"
    shown = []
    # up to the keyword, end-of-line included: a decompressor leaves whatever follows the compressed data aside
    # (cutting an optional \r off first would cut the stream's own last byte whenever that byte is 0x0D)
    for stream in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            content = zlib.decompressobj().decompress(stream.group(1)).decode("latin-1")
        except zlib.error:
            continue
        for text in re.findall(r"\(((?:[^()\\]|\\.)*)\) Tj", content):
            shown.append(re.sub(r"\\(.)", r"\1", text))
    return "\n".join(shown)
