"""Content-Encoding decoded a piece at a time, with a limit on the decoded bytes.

httpx decodes each chunk of a response whole: a 2 KB body of ``Content-Encoding: gzip,
gzip`` becomes gigabytes before any size check can run. Here every layer inflates at most
:data:`PIECE` bytes at a time (``zlib``'s ``max_length``), so a bomb is stopped at the
body limit having used about one piece of memory per layer.

Accepted encodings: ``identity``, ``gzip`` (``x-gzip``, several members too) and
``deflate`` (zlib-wrapped, or raw as some servers send it), in any chain
(``gzip, gzip``). Others (``br``, ``zstd``, ``compress``) are not asked for and are an
error when a server sends them anyway.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

#: The most bytes one layer hands on at a time.
PIECE = 64 * 1024
#: What the fetcher asks for (``Accept-Encoding``): the encodings decoded here.
ACCEPT_ENCODING = "gzip, deflate"
_KNOWN = frozenset({"gzip", "x-gzip", "deflate", "identity"})


class DecodingError(ValueError):
    """A body that cannot be decoded (unknown encoding, corrupt data, too large)."""


class TooLarge(DecodingError):
    """The decoded body went past the limit."""


class _Layer:
    """One encoding, inflated in pieces of at most :data:`PIECE` bytes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._inflater: zlib._Decompress | None = None
        self._started = False
        self._done = False
        self._head = b""  # the first bytes of a deflate body, until there are two

    def _new(self, head: bytes) -> zlib._Decompress:
        if self.name == "deflate":
            # RFC 9110 says zlib-wrapped; many servers send raw deflate: the zlib header
            # (CMF 8, FCHECK) tells them apart.
            wrapped = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
            return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.name == "identity":
            if data:
                yield data
            return
        pending = data
        if self.name == "deflate" and not self._started:
            self._head += pending  # its first two bytes say whether it is zlib-wrapped
            if len(self._head) < 2:
                return
            pending, self._head = self._head, b""
        while pending and not self._done:
            if self._inflater is None:
                if self._started and not pending.strip(b"\x00"):
                    return  # padding after the last gzip member
                self._inflater = self._new(pending[:2])
                self._started = True
            inflater = self._inflater
            out = self._inflate(inflater, pending)
            if out:
                yield out
            if inflater.eof:  # the end of a gzip member; another may follow
                pending = inflater.unused_data
                self._inflater = None
                self._done = self.name == "deflate"  # what follows a deflate stream is ignored
            else:
                pending = inflater.unconsumed_tail

    def flush(self) -> Iterator[bytes]:
        """What the inflater still holds; an error if the data stopped before its end."""
        inflater = self._inflater
        if self._head:
            raise DecodingError(f"{self.name} data cut off before its end")
        if inflater is None:
            return
        while not inflater.eof:
            out = self._inflate(inflater, inflater.unconsumed_tail)
            if not out:
                raise DecodingError(f"{self.name} data cut off before its end")
            yield out

    def _inflate(self, inflater: zlib._Decompress, data: bytes) -> bytes:
        try:
            return inflater.decompress(data, PIECE)
        except zlib.error as exc:
            raise DecodingError(f"corrupt {self.name} data ({exc})") from None


class BodyDecoder:
    """Decodes a body encoded with ``content_encoding``, refusing more than ``limit``
    decoded bytes (:class:`TooLarge`)."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        unknown = [n for n in names if n not in _KNOWN]
        if unknown:
            raise DecodingError(f"content encoding {unknown[0]!r} is not supported")
        # The last encoding listed was applied last: it is undone first.
        self._layers = [_Layer(n) for n in reversed(names) if n != "identity"]
        self.limit = limit
        self.size = 0

    def feed(self, data: bytes) -> list[bytes]:
        """The decoded bytes ``data`` gives (some may come later, with more data)."""
        return self._count(self._through(0, data))

    def finish(self) -> list[bytes]:
        """The last decoded bytes; :class:`DecodingError` if the body was cut off."""
        out: list[bytes] = []
        for index, layer in enumerate(self._layers):
            for piece in layer.flush():
                out.extend(self._count(self._through(index + 1, piece)))
        return out

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self._layers):
            if data:
                yield data
            return
        for piece in self._layers[index].feed(data):
            yield from self._through(index + 1, piece)

    def _count(self, pieces: Iterator[bytes]) -> list[bytes]:
        out: list[bytes] = []
        for piece in pieces:
            self.size += len(piece)
            if self.size > self.limit:
                raise TooLarge(f"more than {self.limit:,} bytes once decoded")
            out.append(piece)
        return out
