"""Basic, Bearer and Digest auth answer as httpbin 0.10.4 does, and Digest works where httpbin crashes.

Digest challenges carry random nonces and opaques: those are compared by
shape (hex of the algorithm's length), everything else byte for byte.
Credentials built here by the RFC 2617/7616 formula (independently of
mockbin's code) with a made-up nonce, which httpbin accepts, give
deterministic successes that are compared exactly.  Real client flows use
requests' HTTPDigestAuth, and hand-built headers for auth-int and SHA-512.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Dict, Optional

import pytest
import requests
from requests.auth import HTTPDigestAuth

from support.compare import differential_tests, mask_random
from support.differential import Shape, call_socket, call_wsgi

REALM = "me@kennethreitz.com"
HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256, "SHA-512": hashlib.sha512}
HEX_LENGTH = {"MD5": 32, "SHA-256": 64, "SHA-512": 128}


def basic(credentials: bytes) -> tuple:
    return ("Authorization", "Basic " + base64.b64encode(credentials).decode())


def digest(
    path: str,
    password: str = "passwd",
    *,
    user: str = "user",
    method: str = "GET",
    algorithm: Optional[str] = "MD5",
    qop: Optional[str] = "auth",
    nonce: str = "5f2b0c7d0e1a4b3c",
    realm: str = REALM,
    body: bytes = b"",
    uri: Optional[str] = None,
    extra: str = "",
) -> tuple:
    """An Authorization header computed with the RFC formula: H(HA1:nonce[:nc:cnonce:qop]:HA2)."""
    hash_name = algorithm if algorithm in HASHES else "MD5"

    def h(text: bytes) -> str:
        return HASHES[hash_name](text).hexdigest()

    uri = uri if uri is not None else path
    ha1 = h(f"{user}:{realm}:{password}".encode())
    a2 = f"{method}:{uri}" + (f":{h(body)}" if qop == "auth-int" else "")
    ha2 = h(a2.encode())
    nc, cnonce = "00000001", "0a4f113b"
    if qop:
        response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())
    else:
        response = h(f"{ha1}:{nonce}:{ha2}".encode())
    fields = f'username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{response}"'
    if algorithm:
        fields += f", algorithm={algorithm}"
    if qop:
        fields += f', qop={qop}, nc={nc}, cnonce="{cnonce}"'
    return ("Authorization", "Digest " + fields + extra)


def cookie(text: str) -> tuple:
    return ("Cookie", text)


D = "/digest-auth/auth/user/passwd"

SHAPES = [
    # Basic
    Shape("basic-none", "GET", "/basic-auth/user/passwd"),
    Shape("basic-ok", "GET", "/basic-auth/user/passwd", (basic(b"user:passwd"),)),
    Shape("basic-wrong-password", "GET", "/basic-auth/user/passwd", (basic(b"user:nope"),)),
    Shape("basic-wrong-user", "GET", "/basic-auth/user/passwd", (basic(b"other:passwd"),)),
    Shape("basic-lowercase-scheme", "GET", "/basic-auth/user/passwd", (("Authorization", "basic dXNlcjpwYXNzd2Q="),)),
    Shape("basic-extra-spaces", "GET", "/basic-auth/user/passwd", (("Authorization", "Basic    dXNlcjpwYXNzd2Q="),)),
    Shape("basic-invalid-base64", "GET", "/basic-auth/user/passwd", (("Authorization", "Basic !!!"),)),
    Shape("basic-no-colon", "GET", "/basic-auth/user/passwd", (basic(b"userpasswd"),)),
    Shape("basic-colon-in-password", "GET", "/basic-auth/user/pa:ss", (basic(b"user:pa:ss"),)),
    Shape("basic-utf8-user", "GET", "/basic-auth/%C3%A9l%C3%A8ve/p", (basic("élève:p".encode()),)),
    Shape("basic-latin1-credentials", "GET", "/basic-auth/user/p", (basic(b"user:\xe9"),)),
    Shape("basic-bearer-header", "GET", "/basic-auth/user/passwd", (("Authorization", "Bearer abc"),)),
    Shape("basic-digest-params-quirk", "GET", "/basic-auth/user/passwd", (("Authorization", 'Digest username="user", password="passwd"'),)),
    Shape("basic-head-ok", "HEAD", "/basic-auth/user/passwd", (basic(b"user:passwd"),)),
    Shape("basic-head-fail", "HEAD", "/basic-auth/user/passwd"),
    Shape("basic-options", "OPTIONS", "/basic-auth/user/passwd"),
    Shape("basic-post-405", "POST", "/basic-auth/user/passwd", (basic(b"user:passwd"),)),
    Shape("basic-missing-password-404", "GET", "/basic-auth/user"),
    Shape("hidden-none", "GET", "/hidden-basic-auth/user/passwd"),
    Shape("hidden-ok", "GET", "/hidden-basic-auth/user/passwd", (basic(b"user:passwd"),)),
    Shape("hidden-wrong", "GET", "/hidden-basic-auth/user/passwd", (basic(b"user:x"),)),
    Shape("hidden-head", "HEAD", "/hidden-basic-auth/user/passwd"),
    Shape("hidden-cors-origin", "GET", "/hidden-basic-auth/u/p", (("Origin", "https://o.example"),)),
    # Bearer
    Shape("bearer-none", "GET", "/bearer"),
    Shape("bearer-ok", "GET", "/bearer", (("Authorization", "Bearer abc.def-ghi"),)),
    Shape("bearer-lowercase-scheme", "GET", "/bearer", (("Authorization", "bearer abc"),)),
    Shape("bearer-empty-token", "GET", "/bearer", (("Authorization", "Bearer "),)),
    Shape("bearer-double-space", "GET", "/bearer", (("Authorization", "Bearer  spaced token"),)),
    Shape("bearer-basic-header", "GET", "/bearer", (basic(b"user:passwd"),)),
    Shape("bearer-latin1-token", "GET", "/bearer", (("Authorization", b"Bearer caf\xe9"),)),
    Shape("bearer-head", "HEAD", "/bearer", (("Authorization", "Bearer t"),)),
    Shape("bearer-options", "OPTIONS", "/bearer"),
    Shape("bearer-delete-405", "DELETE", "/bearer"),
    # Digest: deterministic answers (no challenge)
    Shape("digest-md5-auth-ok", "GET", D, (digest(D),)),
    Shape("digest-md5-no-qop-ok", "GET", "/digest-auth/none/user/passwd", (digest("/digest-auth/none/user/passwd", qop=None),)),
    Shape("digest-md5-auth-int-ok", "GET", "/digest-auth/auth-int/user/passwd", (digest("/digest-auth/auth-int/user/passwd", qop="auth-int"),)),
    Shape("digest-auth-int-with-body-ok", "GET", "/digest-auth/auth-int/user/passwd",
          (digest("/digest-auth/auth-int/user/passwd", qop="auth-int", body=b"payload"), ("Content-Type", "text/plain")), b"payload"),
    Shape("digest-sha256-ok", "GET", D + "/SHA-256", (digest(D + "/SHA-256", algorithm="SHA-256"),)),
    Shape("digest-sha512-ok", "GET", D + "/SHA-512", (digest(D + "/SHA-512", algorithm="SHA-512"),)),
    Shape("digest-sha512-auth-int-ok", "GET", "/digest-auth/auth-int/user/passwd/SHA-512",
          (digest("/digest-auth/auth-int/user/passwd/SHA-512", algorithm="SHA-512", qop="auth-int"),)),
    Shape("digest-stale-after-countdown", "GET", D + "/MD5/3", (digest(D + "/MD5/3"), cookie("stale_after=3; fake=fake_value"))),
    Shape("digest-stale-after-1", "GET", D + "/SHA-256/5", (digest(D + "/SHA-256/5", algorithm="SHA-256"), cookie("stale_after=1"))),
    Shape("digest-stale-after-never-cookie", "GET", D + "/MD5/never", (digest(D + "/MD5/never"), cookie("stale_after=never"))),
    Shape("digest-stale-after-lenient-int", "GET", D, (digest(D), cookie("stale_after=+7"))),
    Shape("digest-stale-after-empty-cookie", "GET", D, (digest(D), cookie("stale_after="))),
    Shape("digest-any-username-quirk", "GET", D, (digest(D, user="someone-else"),)),
    Shape("digest-any-realm-quirk", "GET", D, (digest(D, realm="made up"),)),
    Shape("digest-empty-realm", "GET", D, (digest(D, realm=""),)),
    Shape("digest-client-algorithm-wins-quirk", "GET", D + "/SHA-512", (digest(D + "/SHA-512", algorithm="SHA-256"),)),
    Shape("digest-no-algorithm-is-md5", "GET", D + "/SHA-256", (digest(D + "/SHA-256", algorithm=None),)),
    Shape("digest-unknown-algorithm-is-md5", "GET", D, (digest(D, algorithm="MD5-sess"),)),
    Shape("digest-header-uri-ignored", "GET", D, (digest(D, uri=D),)),
    Shape("digest-head-ok", "HEAD", D, (digest(D, method="HEAD"),)),
    Shape("digest-last-nonce-other", "GET", D, (digest(D), cookie("last_nonce=different"))),
    Shape("digest-require-cookie-no-fake-403", "GET", D + "?require-cookie=1", (digest(D), cookie("other=1"))),
    Shape("digest-require-cookie-wrong-fake-403", "GET", D + "?require-cookie=true", (digest(D), cookie("fake=x"))),
    Shape("digest-options", "OPTIONS", D),
    Shape("digest-post-405", "POST", D),
    Shape("digest-too-many-segments-404", "GET", D + "/MD5/3/extra"),
]

# Digest: challenges (random nonce/opaque, compared by shape)
CHALLENGES = [
    Shape("challenge-md5", "GET", D),
    Shape("challenge-auth-int", "GET", "/digest-auth/auth-int/user/passwd"),
    Shape("challenge-unknown-qop-offers-both", "GET", "/digest-auth/other/user/passwd"),
    Shape("challenge-sha256", "GET", D + "/SHA-256"),
    Shape("challenge-sha512-stale-after", "GET", D + "/SHA-512/4"),
    Shape("challenge-unknown-algorithm-md5", "GET", D + "/sha-256"),
    Shape("challenge-stale-after-needs-quoting", "GET", D + "/MD5/a%20b"),
    Shape("challenge-wrong-password", "GET", D, (digest(D, "wrong"),)),
    Shape("challenge-wrong-nonce-cookie-set", "GET", D + "/SHA-256/2", (digest(D + "/SHA-256/2", "wrong", algorithm="SHA-256"),)),
    Shape("challenge-basic-header", "GET", D, (basic(b"user:passwd"),)),
    Shape("challenge-bearer-header", "GET", D, (("Authorization", "Bearer x=1"),)),
    Shape("challenge-undecodable-basic", "GET", D, (("Authorization", "Basic %%%"),)),
    Shape("challenge-stale-countdown-at-zero", "GET", D + "/MD5/3", (digest(D + "/MD5/3"), cookie("stale_after=0"))),
    Shape("challenge-replayed-nonce", "GET", D, (digest(D, nonce="abc"), cookie("last_nonce=abc"))),
    Shape("challenge-require-cookie-without-cookies", "GET", D + "?require-cookie=1", (digest(D),)),
    Shape("challenge-require-cookie-t", "GET", D + "?require-cookie=T"),
    Shape("challenge-head", "HEAD", D + "/SHA-512"),
    Shape("challenge-origin-cors", "GET", D, (("Origin", "https://o.example"),)),
]


test_in_process, test_over_sockets, test_over_granian = differential_tests(SHAPES + CHALLENGES, mask=mask_random)


CHALLENGE = re.compile(
    r'Digest realm="me@kennethreitz\.com", nonce="(?P<nonce>[0-9a-f]+)", opaque="(?P<opaque>[0-9a-f]+)", '
    r'qop="(?P<qop>auth|auth-int|auth, auth-int)", algorithm=(?P<algorithm>MD5|SHA-256|SHA-512), '
    r"stale=(?P<stale>True|False)"
)


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "SHA-512"])
def test_nonce_and_opaque_are_fresh_hex_of_the_algorithms_length(algorithm, mockbin_app):
    seen = set()
    for _ in range(5):
        answer = call_wsgi(mockbin_app, Shape("c", "GET", f"{D}/{algorithm}"))
        match = CHALLENGE.fullmatch(dict(answer.headers)["WWW-Authenticate"])
        assert match and match["algorithm"] == algorithm and match["stale"] == "False"
        assert len(match["nonce"]) == len(match["opaque"]) == HEX_LENGTH[algorithm]
        seen.add(match["nonce"])
    assert len(seen) == 5


# -- real clients -------------------------------------------------------------------------------

def _cookie_values(response: requests.Response) -> list:
    return sorted(re.sub(r"last_nonce=[0-9a-f]+", "last_nonce=<hex>", c) for c in response.raw.headers.getlist("Set-Cookie"))


def _flow(base: str, path: str, auth: HTTPDigestAuth, rounds: int) -> list:
    """(history statuses, final status, cookies set) for each request of one session."""
    steps = []
    with requests.Session() as session:
        for _ in range(rounds):
            response = session.get(base + path, auth=auth, timeout=10)
            steps.append(([r.status_code for r in response.history], response.status_code,
                          [_cookie_values(r) for r in response.history] + [_cookie_values(response)]))
    return steps


@pytest.mark.oracle
@pytest.mark.parametrize("path", [D, D + "/SHA-256", D + "/SHA-512", D + "/MD5/2", D + "/SHA-256/1", "/digest-auth/other/user/passwd/MD5/3"])
def test_requests_digest_flow_matches_httpbin(path, live_pair):
    """Challenge -> authorised request -> stale countdown -> stale challenge -> renewal, step by step."""
    oracle, mine = live_pair
    auth = HTTPDigestAuth("user", "passwd")
    expected = _flow(oracle.url, path, auth, rounds=5)
    actual = _flow(mine.url, path, HTTPDigestAuth("user", "passwd"), rounds=5)
    assert actual == expected
    assert actual[0][:2] == ([401], 200)


def test_requests_digest_stale_countdown(live_pair):
    """With stale_after=2: two requests pass on the first nonce, the third needs a new one."""
    _, mine = live_pair
    with requests.Session() as session:
        auth = HTTPDigestAuth("user", "passwd")
        first = session.get(f"{mine.url}{D}/SHA-256/2", auth=auth, timeout=10)
        assert [r.status_code for r in first.history] == [401] and first.status_code == 200
        assert session.cookies["stale_after"] == "1"
        second = session.get(f"{mine.url}{D}/SHA-256/2", auth=auth, timeout=10)
        assert second.history == [] and second.status_code == 200
        assert session.cookies["stale_after"] == "0"
        third = session.get(f"{mine.url}{D}/SHA-256/2", auth=auth, timeout=10)
        stale = third.history[0].headers["WWW-Authenticate"]
        assert third.history[0].status_code == 401 and stale.endswith("stale=True")
        assert session.cookies["stale_after"] == "2"  # the countdown restarts with the new nonce
        # requests re-sends its cookies from before the stale challenge (stale_after=0), so its
        # retry is stale too; the next request carries the new cookies and passes.
        fourth = session.get(f"{mine.url}{D}/SHA-256/2", auth=auth, timeout=10)
        assert fourth.status_code == 200 and session.cookies["stale_after"] == "1"


def _parse_challenge(answer) -> Dict[str, str]:
    match = CHALLENGE.fullmatch(answer.header("WWW-Authenticate"))
    assert match, answer.header("WWW-Authenticate")
    return match.groupdict()


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "SHA-512"])
def test_hand_built_auth_int_flow(algorithm, live_pair):
    """Challenge -> auth-int answer over the real nonce (body hashed) -> 200 -> stale."""
    _, mine = live_pair
    path = f"/digest-auth/auth-int/user/passwd/{algorithm}/1"
    challenge = call_socket(mine.port, Shape("c", "GET", path))
    assert challenge.status == 401
    chal = _parse_challenge(challenge)
    assert chal["qop"] == "auth-int" and chal["algorithm"] == algorithm
    assert challenge.header_list("Set-Cookie") == ["stale_after=1; Path=/", "fake=fake_value; Path=/"]
    body = b'{"signed": true}'
    header = digest(path, algorithm=algorithm, qop="auth-int", nonce=chal["nonce"], body=body,
                    extra=f', opaque="{chal["opaque"]}"')
    cookies = cookie("stale_after=1; fake=fake_value")
    ok = call_socket(mine.port, Shape("ok", "GET", path, (header, cookies, ("Content-Type", "application/json")), body))
    assert ok.status == 200 and json.loads(ok.body) == {"authenticated": True, "user": "user"}
    assert ok.header_list("Set-Cookie") == ["fake=fake_value; Path=/", "stale_after=0; Path=/"]
    tampered = call_socket(mine.port, Shape("t", "GET", path, (header, cookie("fake=fake_value")), b'{"signed": false}'))
    assert tampered.status == 401 and _parse_challenge(tampered)["stale"] == "False"
    stale = call_socket(mine.port, Shape("s", "GET", path, (header, cookie("stale_after=0; fake=fake_value")), body))
    assert stale.status == 401 and _parse_challenge(stale)["stale"] == "True"
    assert f"last_nonce={chal['nonce']}; Path=/" in stale.header_list("Set-Cookie")
    replay = call_socket(mine.port, Shape("r", "GET", path, (header, cookie(f"last_nonce={chal['nonce']}")), body))
    assert replay.status == 401 and _parse_challenge(replay)["stale"] == "True"


# -- deviations (docs/compatibility.md, "Auth") ------------------------------------------------

@pytest.mark.oracle
@pytest.mark.parametrize("algorithm", ["MD5", "SHA-512"])
def test_digest_with_a_query_string_works(algorithm, live_pair):
    """httpbin: 500 for any credentialed request with a query string.  mockbin: the query is hashed."""
    oracle, mine = live_pair
    path = f"{D}/{algorithm}"
    target = path + "?x=1&y=a%20b"
    shape = Shape("q", "GET", target, (digest(target, algorithm=algorithm),))
    assert call_socket(oracle.port, shape).status == 500
    answer = call_socket(mine.port, shape)
    assert answer.status == 200 and json.loads(answer.body)["authenticated"] is True
    wrong = call_socket(mine.port, Shape("w", "GET", target, (digest(path, algorithm=algorithm),)))
    assert wrong.status == 401  # the query string is part of what is signed
    client = requests.get(mine.url + target, auth=HTTPDigestAuth("user", "passwd"), timeout=10)
    assert client.status_code == 200 and [r.status_code for r in client.history] == [401]


@pytest.mark.oracle
def test_require_cookie_flow_works(live_pair):
    """httpbin cannot serve ?require-cookie=1 to a credentialed request (its query-string crash)."""
    oracle, mine = live_pair
    target = D + "?require-cookie=1"
    no_cookie = call_socket(mine.port, Shape("a", "GET", target, (digest(target),)))
    assert no_cookie.status == 401  # credentials without the challenge's cookies: challenge again
    with_cookie = Shape("b", "GET", target, (digest(target), cookie("fake=fake_value")))
    assert call_socket(oracle.port, with_cookie).status == 500
    answer = call_socket(mine.port, with_cookie)
    assert answer.status == 200 and answer.header_list("Set-Cookie") == ["fake=fake_value; Path=/"]
    with requests.Session() as session:
        response = session.get(mine.url + target, auth=HTTPDigestAuth("user", "passwd"), timeout=10)
        assert response.status_code == 200


MALFORMED = [
    # (id, Authorization value, cookies) -- httpbin raises on each
    ("token-form", "Digest abc", None),
    ("no-username", 'Digest realm="r", nonce="n", uri="/", response="x"', None),
    ("unknown-qop", 'Digest username="user", nonce="n", uri="/", response="x", qop=auth-conf, nc=1, cnonce="c"', None),
    ("qop-without-nc", 'Digest username="user", nonce="n", uri="/", response="x", qop=auth', None),
    ("valueless-nc", 'Digest username="user", nonce="n", uri="/", response="x", qop=auth, nc, cnonce="c"', None),
    ("no-nonce-stale", 'Digest username="user", uri="/", response="x"', "stale_after=0"),
    ("no-nonce-wrong", 'Digest username="user", uri="/", response="x"', None),
]


@pytest.mark.oracle
@pytest.mark.parametrize("case", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_digest_credentials_get_a_challenge(case, live_pair):
    _, value, cookies = case
    oracle, mine = live_pair
    headers = (("Authorization", value),) + ((cookie(cookies),) if cookies else ())
    shape = Shape("m", "GET", D, headers)
    assert call_socket(oracle.port, shape).status == 500  # the deviation is real
    answer = call_socket(mine.port, shape)
    assert answer.status == 401
    chal = _parse_challenge(answer)
    assert chal["stale"] == ("True" if cookies else "False")
    cookies_set = answer.header_list("Set-Cookie")
    assert cookies_set[0] == "stale_after=never; Path=/" and cookies_set[-1] == "fake=fake_value; Path=/"
    if "nonce=" not in value and "abc" not in value:
        assert "last_nonce=; Path=/" in cookies_set


@pytest.mark.oracle
def test_percent_escaped_path_is_accepted_as_sent(live_pair):
    """The client hashes the path it sent (``us%20er``); httpbin hashes the decoded one and refuses."""
    oracle, mine = live_pair
    target = "/digest-auth/auth/us%20er/pass%2Aword"
    shape = Shape("p", "GET", target, (digest(target, "pass*word", user="us er"),))
    assert call_socket(oracle.port, shape).status == 401
    answer = call_socket(mine.port, shape)
    assert answer.status == 200 and json.loads(answer.body)["user"] == "us er"
    decoded = Shape("d", "GET", target, (digest("/digest-auth/auth/us er/pass*word", "pass*word"),))
    assert call_socket(mine.port, decoded).status == call_socket(oracle.port, decoded).status == 200


@pytest.mark.oracle
def test_stale_after_with_a_control_character_is_escaped(live_pair):
    oracle, mine = live_pair
    shape = Shape("ctl", "GET", D + "/MD5/x%1Fy")
    assert call_socket(oracle.port, shape).status == 500  # Werkzeug leaves 0x1F raw; gunicorn refuses
    answer = call_socket(mine.port, shape)
    assert answer.status == 401 and answer.header_list("Set-Cookie")[0] == 'stale_after="x\\037y"; Path=/'
