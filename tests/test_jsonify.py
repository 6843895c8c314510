"""mockbin's JSON encoder produces exactly the oracle's bytes for any JSON value."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import json

from mockbin import jsonify
from mockbin.jsonify import ParsedFloat, _encode_deep, compact, dumps, dumps_bytes, echo_bytes, loads_or_none

# Any text, lone surrogates and control characters included.
TEXT = st.text(st.characters(blacklist_categories=()), max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**60), max_value=10**60)
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(TEXT, children, max_size=5),
    max_leaves=30,
)


@pytest.fixture(scope="module")
def oracle_jsonify(oracle_app):
    """The oracle's own encoder: Flask's jsonify as httpbin configures it."""
    from flask import jsonify

    def encode(value):
        with oracle_app.app_context():
            return jsonify(value).get_data()

    return encode


@given(JSON_VALUES)
@settings(max_examples=400, deadline=None)
def test_matches_oracle_for_any_json_value(oracle_jsonify, value):
    assert dumps_bytes(value) == oracle_jsonify(value)


@given(JSON_VALUES)
@settings(max_examples=200, deadline=None)
def test_non_recursive_encoder_spells_the_same(value):
    assert _encode_deep(value) + "\n" == dumps(value)


def parsed(value):
    """*value* with its floats as a parsed request body holds them (what the echo encodes)."""
    if isinstance(value, float):
        return ParsedFloat(value)
    if isinstance(value, list):
        return [parsed(item) for item in value]
    if isinstance(value, dict):
        return {key: parsed(item) for key, item in value.items()}
    return value


def test_echo_encoder_is_orjson_where_installed():
    """With the extra fast installed, echoes take orjson's path (the tests below then check it)."""
    pytest.importorskip("orjson", reason="orjson (the extra fast) is not installed")
    assert jsonify._orjson_dumps is not None
    value = {"a": [ParsedFloat(0.5)]}
    assert jsonify._orjson_dumps(value, default=jsonify._spell, option=jsonify._OPTIONS) == echo_bytes(value)


@given(value=JSON_VALUES)
@settings(max_examples=300, deadline=None)
def test_echo_encoder_matches_oracle_for_any_parsed_value(oracle_jsonify, value):
    assert echo_bytes(parsed(value)) == oracle_jsonify(value)


@given(value=JSON_VALUES)
@settings(max_examples=300, deadline=None)
def test_any_json_body_parses_and_echoes_as_httpbin_would(oracle_jsonify, value):
    text = json.dumps(value).encode("ascii")  # NaN, Infinity and lone surrogates included
    body = loads_or_none(text)
    assert echo_bytes({"json": body}) == oracle_jsonify({"json": json.loads(text)})


@pytest.mark.parametrize(
    "value",
    [
        {"text": "caf\u00e9"},  # beyond ASCII: httpbin escapes it, orjson would not
        {"text": "\x7f"},  # DEL: escaped by httpbin
        {"n": 2**70},  # past 64 bits
        {"n": -(2**63) - 1},
        {"text": "\ud800"},  # a lone surrogate
        {"deep": json.loads("[" * 300 + "]" * 300)},  # past orjson's nesting limit
        {"small": ParsedFloat(1e-05), "nan": ParsedFloat("nan"), "inf": ParsedFloat("-inf"), "e": ParsedFloat(1e16)},
    ],
    ids=["non-ascii", "del", "big-int", "small-int", "surrogate", "deep", "floats"],
)
def test_echo_encoder_falls_back_where_orjson_spells_differently(value):
    assert echo_bytes(value) == dumps_bytes(value)


def test_parsed_floats_are_plain_floats_to_everything_else():
    value = loads_or_none(b'[0.5, 1e400, NaN, -Infinity, 1, 1e-05]')
    # Marked only where orjson's spelling differs: 0.5 is written alike by both.
    assert [type(item) for item in value] == [float, ParsedFloat, ParsedFloat, ParsedFloat, int, ParsedFloat]
    assert value[0] == 0.5 and value[1] == float("inf") and value[2] != value[2] and value[5] == 1e-05
    assert dumps(value) == dumps(json.loads("[0.5, 1e400, NaN, -Infinity, 1, 1e-05]"))


@given(st.floats(allow_nan=False, allow_infinity=False))
@settings(max_examples=500, deadline=None)
def test_any_parsed_float_echoes_as_httpbin_writes_it(oracle_jsonify, number):
    """Floats left unmarked are those orjson writes as repr() does; the parser must never get that wrong."""
    text = repr(number).encode("ascii")
    assert echo_bytes({"n": loads_or_none(text)}) == oracle_jsonify({"n": number})


# JSON number literals of every shape: long mantissas, exponents of 1 to 3 digits, both signs.
NUMBER_LITERALS = st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?", fullmatch=True)


@given(st.lists(NUMBER_LITERALS, min_size=1, max_size=4))
@settings(max_examples=500, deadline=None)
def test_any_number_literal_parses_and_echoes_as_httpbin_would(oracle_jsonify, literals):
    text = ("[" + ", ".join(literals) + "]").encode("ascii")
    assert echo_bytes({"json": loads_or_none(text)}) == oracle_jsonify({"json": json.loads(text)})


@pytest.mark.parametrize(
    "body",
    [b"9223372036854775807", b"9223372036854775808", b"18446744073709551615", b"18446744073709551616",
     b"-9223372036854775808", b"-9223372036854775809", b"1" * 400, b"1" * 400 + b".0", b"1e400", b"-1E+309",
     b"0.00001", b"1.00001", b"1E-5", b"-0", b"-0.0", b'{"a": 1, "a": [2.5, "\\ud800"]}', b'"\\ud83d\\ude00"',
     b"[" * 1100 + b"]" * 1100, b"\xef\xbb\xbf[1]", b" [1] ", b"NaN", b"[1,]", b'"\\u0000\x7f"',
     b'"\xed\xa0\x80"', b'"\xc0\x80"', b'"\xf4\x90\x80\x80"', b'"\xef\xbf\xbf"', b"[1]\x00", b"[01]", b"[Infinity]"],
)
def test_bodies_either_parser_could_read_parse_as_httpbin_reads_them(oracle_jsonify, body):
    """Where orjson reads a body differently or refuses it, the standard parser's answer is the one echoed."""
    try:  # as httpbin parses: the body decoded as UTF-8 (a BOM is then refused), then json.loads
        expected = oracle_jsonify({"json": json.loads(body.decode("utf-8"))})
    except (ValueError, RecursionError):
        expected = oracle_jsonify({"json": None})
    assert echo_bytes({"json": loads_or_none(body)}) == expected


def test_json_bodies_take_orjson_where_installed():
    pytest.importorskip("orjson", reason="orjson (the extra fast) is not installed")
    assert jsonify._loads_fast is not None
    assert not jsonify.standard_only(b'{"name": "mockbin", "items": [1, 2, 3], "ratio": 0.5}')


# Each side of where orjson's spelling of floats departs from repr()'s (1e-9 up to 1e-4) and of 1e16.
EDGES = [1e-4, 9.999999999999999e-05, 1e-9, 9.999999999999999e-10, 1.0000000000000002e-09, 1e16, 9999999999999998.0]


@pytest.mark.parametrize("number", EDGES + [-x for x in EDGES], ids=repr)
def test_floats_at_the_spelling_edges_echo_as_httpbin_writes_them(oracle_jsonify, number):
    text = repr(number).encode("ascii")
    assert echo_bytes({"n": loads_or_none(text)}) == oracle_jsonify({"n": number})


@pytest.mark.parametrize("body", [b"[1e-05, 1e16, 1e-7, 0.00025, 1.5e300, -0.0, 0.5, 5e-324]", b"{\"n\": 1e22}"])
def test_parsed_floats_echo_as_httpbin_writes_them(oracle_jsonify, body):
    assert echo_bytes({"json": loads_or_none(body)}) == oracle_jsonify({"json": json.loads(body)})


def test_spelling_of_the_traps():
    value = {"b": [1.0, 2.5, 1e-07, 1e16, -0.0, float("nan"), float("inf"), -float("inf")],
             "a": "é\x7f\u2028😀\"\\/\n", "": {}, "10": [], "9": [{}], "B": None}
    assert dumps(value) == (
        "{\n"
        '  "": {},\n'
        '  "10": [],\n'
        '  "9": [\n    {}\n  ],\n'
        '  "B": null,\n'
        '  "a": "\\u00e9\\u007f\\u2028\\ud83d\\ude00\\"\\\\/\\n",\n'
        '  "b": [\n    1.0,\n    2.5,\n    1e-07,\n    1e+16,\n    -0.0,\n    NaN,\n    Infinity,\n    -Infinity\n  ]\n'
        "}\n"
    )


def test_nesting_deeper_than_the_stack_still_encodes():
    value = 0
    for _ in range(5000):
        value = [value]
    text = dumps(value)
    assert text.startswith("[\n  [\n    [") and text.endswith("]\n")
    assert text.count("[") == 5000


def test_big_integers_are_exact():
    assert dumps(2**200) == str(2**200) + "\n"


def test_compact_is_plain_json_dumps():
    assert compact({"b": 1, "a": "é"}) == '{"b": 1, "a": "\\u00e9"}'


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b'{"a": 1}', {"a": 1}),
        (b'  [1, 2] ', [1, 2]),
        (b'"s"', "s"),
        (b"NaN", "nan"),
        (b"", None),
        (b"   ", None),
        (b"{", None),
        (b"\xff", None),
        (b'\xef\xbb\xbf{"a": 1}', None),  # a BOM is not JSON to httpbin
        (b"[" * 100_000 + b"]" * 100_000, None),  # too deep for the interpreter
        (b"123456789012345678901234567890", 123456789012345678901234567890),  # exact, past 64 bits
        (b"[-9223372036854775809, 18446744073709551616]", [-9223372036854775809, 18446744073709551616]),
        (b'"\\ud800"', "\ud800"),  # a lone surrogate: httpbin keeps it
        (b'{"a": 1, "a": 2}', {"a": 2}),
    ],
)
def test_loads_or_none(raw, expected):
    result = loads_or_none(raw)
    if expected == "nan":
        assert result != result
    else:
        assert result == expected
