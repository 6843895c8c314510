"""Comparisons for answers whose body is mockbin's own or compressed.

For mockbin's own documents (pages, images) the oracle still fixes the
status line and every header but ``Content-Length``; the body is checked for
type and validity instead, and for sharing no text with httpbin's.  For
compressed bodies the *decoded* content is compared, after the usual
host:port masking.
"""

from __future__ import annotations

import gzip
import io
import zlib
from html.parser import HTMLParser
from typing import List, Sequence, Tuple, Union
from xml.etree import ElementTree

import brotlicffi
from PIL import Image

from .differential import Answer, normalise
from .rawhttp import RawResponse

Response = Union[Answer, RawResponse]
SVG_ROOT = "{http://www.w3.org/2000/svg}svg"


def header(answer: Response, name: str) -> str:
    for key, value in answer.headers:
        if key.lower() == name.lower():
            return value
    return ""


def _without_length(headers: List[Tuple[str, str]]) -> List[Tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() != "content-length"]


def assert_same_but_body(oracle: Response, mine: Response, ports: Sequence[str]) -> None:
    """Same status line and headers, Content-Length aside (its value, not its position)."""
    expected = normalise(oracle, ports)
    actual = normalise(mine, ports)
    assert actual[0] == expected[0], "status line differs"
    assert _without_length(actual[1]) == _without_length(expected[1]), "headers differ"
    names = [k.lower() for k, _ in actual[1]]
    assert names == [k.lower() for k, _ in expected[1]], "header order differs"


def decode(body: bytes, coding: str) -> bytes:
    """A response body with its Content-Encoding undone."""
    if not body:
        return body
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "deflate":
        return zlib.decompress(body)
    if coding == "br":
        return brotlicffi.decompress(body)
    return body


def assert_same_decoded(oracle: Response, mine: Response, ports: Sequence[str]) -> None:
    """Headers as in :func:`assert_same_but_body`; decoded bodies equal after masking."""
    assert_same_but_body(oracle, mine, ports)
    expected = Answer(oracle.status_line, oracle.headers, decode(oracle.body, header(oracle, "Content-Encoding")))
    actual = Answer(mine.status_line, mine.headers, decode(mine.body, header(mine, "Content-Encoding")))
    assert normalise(actual, ports)[2] == normalise(expected, ports)[2], "decoded body differs"


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: List[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)


def html_tags(body: bytes) -> List[str]:
    parser = _Parser()
    parser.feed(body.decode("utf-8"))
    parser.close()
    return parser.tags


def assert_valid(content_type: str, body: bytes) -> None:
    """The body is a well-formed document of its media type."""
    media_type = content_type.split(";")[0]
    if media_type in ("image/png", "image/jpeg", "image/webp"):
        with Image.open(io.BytesIO(body)) as picture:
            assert picture.format == media_type.split("/")[1].upper()
            picture.load()  # decodes every pixel: a truncated file fails here
            assert picture.width > 0 and picture.height > 0
    elif media_type == "image/svg+xml":
        assert ElementTree.fromstring(body).tag == SVG_ROOT
    elif media_type == "application/xml":
        assert body.startswith(b"<?xml ")
        ElementTree.fromstring(body)
    elif media_type == "text/html":
        assert body.lstrip().lower().startswith(b"<!doctype html>")
        tags = html_tags(body)
        assert {"html", "head", "title", "body"} <= set(tags)
    elif media_type == "text/plain":
        body.decode("ascii")
        assert body.count(b"\n") > 3
    else:
        raise AssertionError(f"no validity check for {content_type}")


def shared_lines(ours: bytes, theirs: bytes, minimum: int = 16) -> List[str]:
    """Lines of ours (long enough to be prose, not boilerplate) that also occur in theirs."""
    boilerplate = ("<?xml", "<!doctype", "<html", "</", "<meta", "<head", "<body")
    their_lines = {line.strip() for line in theirs.decode("utf-8", "replace").splitlines()}
    shared = []
    for line in ours.decode("utf-8", "replace").splitlines():
        text = line.strip()
        if len(text) >= minimum and not text.lower().startswith(boilerplate) and text in their_lines:
            shared.append(text)
    return shared
