"""Small PDFs built byte by byte for the tests: ordinary ones, and the hostile ones that made
pdfminer take all the memory or time there was (a font's ``/W`` range of a billion
characters, a Flate bomb, thousands of pages).

Each is a few kilobytes to a few hundred: what makes them hostile is what pdfminer does with
them, not their size.
"""

from __future__ import annotations

import zlib


def build_pdf(objects: list[bytes], *, trailer: bytes = b"") -> bytes:
    """A PDF of ``objects`` (object 1 is the catalog) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _text_content(lines: list[str]) -> bytes:
    ops = [b"BT /F1 12 Tf 14 TL 40 800 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(b"(" + escaped.encode("latin-1") + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def text_pdf(pages: int = 1, lines: list[str] | None = None, *, font: bytes | None = None) -> bytes:
    """``pages`` pages that all draw ``lines`` (one content stream and one font shared by
    every page, so a thousand pages cost a few bytes each)."""
    content = _text_content(lines or ["Hello from a small PDF."])
    font_object = font or b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    first_page = 5
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        _stream(content),
        font_object,
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
        b"/Resources << /Font << /F1 4 0 R >> >> >>"
    )
    objects.extend([page] * pages)
    return build_pdf(objects)


_TO_UNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
4 beginbfrange
<0020> <00FF> <0020>
<0600> <06FF> <0600>
<2000> <206F> <2000>
<FE70> <FEFF> <FE70>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end"""


def arabic_pdf(paragraphs: list[str], *, title: str | None = None) -> bytes:
    """One page that draws each paragraph on a line of its own, in logical order, with a
    font whose character codes are the Unicode code points (its ``ToUnicode`` map says so):
    a text layer like a word processor's, without Chromium."""
    ops = [b"BT /F1 10 Tf 30 TL 20 800 Td"]
    for paragraph in paragraphs:
        ops.append(b"<" + paragraph.encode("utf-16-be").hex().encode() + b"> Tj T*")
    ops.append(b"ET")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
        _stream(b"\n".join(ops)),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Plain /Encoding /Identity-H "
        b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Plain "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/DW 500 >>] /ToUnicode 6 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 5000 842] /Contents 3 0 R "
        b"/Resources << /Font << /F1 4 0 R >> >> >>",
        _stream(_TO_UNICODE),
    ]
    trailer = b""
    if title is not None:
        objects.append(b"<< /Title <FEFF" + title.encode("utf-16-be").hex().encode() + b"> >>")
        trailer = b"/Info %d 0 R " % len(objects)
    return build_pdf(objects, trailer=trailer)


def widths_bomb_pdf(last_cid: int = 2_000_000_000) -> bytes:
    """A CID font whose ``/W`` array gives one width to the characters 0..``last_cid``:
    pdfminer makes a dictionary entry for each of them."""
    font = (
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Bomb /Encoding /Identity-H "
        b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Bomb "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/W [0 %d 500] >>] >>" % last_cid
    )
    return text_pdf(1, ["AB"], font=font)


def flate_bomb_pdf(inflated_mb: int = 400) -> bytes:
    """A page whose content stream is ``inflated_mb`` MB of spaces once inflated (about a
    thousandth of that compressed); built a megabyte at a time."""
    compressor = zlib.compressobj(9)
    block = b" " * (1024 * 1024)
    parts = [compressor.compress(b"BT /F1 12 Tf 40 800 Td (bomb) Tj ET\n")]
    parts.extend(compressor.compress(block) for _ in range(inflated_mb))
    parts.append(compressor.flush())
    data = b"".join(parts)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
        _stream(data, b"/Filter /FlateDecode "),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
        b"/Resources << /Font << /F1 4 0 R >> >> >>",
    ]
    return build_pdf(objects)


def encrypted_pdf(permissions: int = 0) -> bytes:
    """A one-page PDF encrypted by pypdf with an empty user password and ``/P`` set to
    ``permissions`` (0: nothing allowed)."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(text_pdf())).pages:
        writer.add_page(page)
    writer.encrypt(user_password="", owner_password="owner", permissions_flag=permissions)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
