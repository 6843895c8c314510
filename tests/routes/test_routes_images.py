"""Images: /image negotiation and /image/png|jpeg|webp|svg, against the httpbin 0.10.4 oracle.

The pictures are mockbin's own, so for answers carrying one the oracle fixes
the status line and the headers (Content-Type above all: it is what the
negotiation chose) and the body must be a valid image of that type.  The
406 answers carry no picture and must match byte for byte.
"""

from __future__ import annotations

from support.compare import differential_tests
from support.differential import Shape
from support.owncontent import assert_same_but_body, assert_valid, header

# (id, Accept value or None for no header) -> the oracle decides the answer.
PICTURE_ACCEPTS = [
    ("no-accept", None),
    ("png", "image/png"),
    ("jpeg", "image/jpeg"),
    ("webp", "image/webp"),
    ("svg", "image/svg+xml"),
    ("image-star", "image/*"),
    ("image-star-q0", "image/*;q=0"),  # substring test: q values are ignored
    ("uppercase", "IMAGE/JPEG"),
    ("png-before-webp", "image/png, image/webp"),  # webp wins: fixed order, not client order
    ("svg-and-jpeg", "image/jpeg;q=1, image/svg+xml;q=0.1"),
    ("browser", "text/html,application/xhtml+xml,image/avif,image/webp,*/*;q=0.8"),
    ("img-tag", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
    ("substring-inside", "application/x-image/png-ish"),
]
REFUSED_ACCEPTS = [
    ("star-star", "*/*"),
    ("empty", ""),
    ("html", "text/html"),
    ("json", "application/json"),
    ("gif", "image/gif"),
    ("svg-without-xml", "image/svg"),
    ("avif", "image/avif"),
]


def accept_shape(prefix: str, name: str, accept, method: str = "GET") -> Shape:
    headers = () if accept is None else (("Accept", accept),)
    return Shape(f"{prefix}-{name}", method, "/image", headers)


PICTURES = [accept_shape("image", name, accept) for name, accept in PICTURE_ACCEPTS]
PICTURES += [accept_shape("image-head", name, accept, "HEAD") for name, accept in PICTURE_ACCEPTS[:5]]
PICTURES += [Shape(f"fixed-{kind}", "GET", f"/image/{kind}") for kind in ("png", "jpeg", "webp", "svg")]
PICTURES += [Shape(f"fixed-head-{kind}", "HEAD", f"/image/{kind}") for kind in ("png", "jpeg", "webp", "svg")]
PICTURES += [
    Shape("fixed-png-ignores-accept", "GET", "/image/png", (("Accept", "text/html"),)),
    Shape("fixed-svg-origin", "GET", "/image/svg", (("Origin", "https://a.example"),)),
]

EXACT = [accept_shape("refused", name, accept) for name, accept in REFUSED_ACCEPTS]
EXACT += [
    accept_shape("refused-head", "star-star", "*/*", "HEAD"),
    Shape("refused-origin", "GET", "/image", (("Accept", "*/*"), ("Origin", "https://a.example"))),
    Shape("options-image", "OPTIONS", "/image"),
    Shape("options-image-png", "OPTIONS", "/image/png", (("Origin", "x"), ("Access-Control-Request-Headers", "A"))),
    Shape("post-image-405", "POST", "/image"),
    Shape("put-image-webp-405", "PUT", "/image/webp"),
    Shape("unknown-format-404", "GET", "/image/gif"),
    Shape("trailing-slash-404", "GET", "/image/"),
]

ALL = PICTURES + EXACT


def test_enough_distinct_cases():
    assert len({shape.id for shape in ALL}) == len(ALL) >= 40


def check_picture(oracle, mine, ports) -> None:
    assert_same_but_body(oracle, mine, ports)
    assert header(mine, "Content-Type").startswith("image/")
    if mine.body:
        assert_valid(header(mine, "Content-Type"), mine.body)
        assert mine.body != oracle.body  # mockbin's own picture, not httpbin's


test_picture_in_process, test_picture_over_sockets, test_picture_over_granian = differential_tests(PICTURES, check=check_picture)


test_exact_in_process, test_exact_over_sockets, test_exact_over_granian = differential_tests(EXACT)


def test_negotiated_image_is_the_fixed_one(mockbin_app):
    client = mockbin_app.test_client()
    for kind, media_type in (("png", "image/png"), ("jpeg", "image/jpeg"), ("webp", "image/webp"), ("svg", "image/svg+xml")):
        fixed = client.get(f"/image/{kind}")
        negotiated = client.get("/image", headers={"Accept": media_type})
        assert negotiated.data == fixed.data
        assert negotiated.headers["Content-Type"] == media_type


def test_refusal_names_the_supported_types(mockbin_app):
    answer = mockbin_app.test_client().get("/image", headers={"Accept": "*/*"})
    assert answer.status_code == 406
    assert answer.get_json()["accept"] == ["image/webp", "image/svg+xml", "image/jpeg", "image/png", "image/*"]
    assert not answer.data.endswith(b"\n")


def test_every_asset_ships_with_the_package():
    """``pip install .`` copies package data by the globs in setup.cfg; assets must match them."""
    import configparser
    import fnmatch
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    globs = config["options.package_data"]["mockbin"].split()
    assets = [p.relative_to(root / "mockbin").as_posix() for p in (root / "mockbin" / "assets").rglob("*") if p.is_file()]
    assert {"assets/image.png", "assets/image.jpeg", "assets/image.webp", "assets/image.svg"} <= set(assets)
    for asset in assets:
        assert any(fnmatch.fnmatch(asset, g) and asset.count("/") == g.count("/") for g in globs), asset
