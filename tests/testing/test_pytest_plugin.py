"""The pytest plugin, exercised the way users meet it: real pytest runs in temporary projects.

Each test writes a small project and runs pytest on it in a subprocess
(``pytester.runpytest_subprocess``), with ``-W error`` so that any leaked
socket, thread or file (a ResourceWarning) fails the run.  The plugin is
loaded through its ``pytest11`` entry point, as after ``pip install mockbin``.
"""

from __future__ import annotations

import os
import sys

import pytest

from support.inner_pytest import UNRELATED_PLUGINS
from support.servers import ServerProcess, free_port, mockbin_argv

# Leaves nothing behind: checked after the session's fixtures are torn down.
LEAK_CHECK = """
import os, threading

def _sockets():
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return 0
    count = 0
    for name in names:
        try:
            count += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
        except OSError:
            pass
    return count

def pytest_sessionstart(session):
    session.config._sockets_before = _sockets()

def pytest_sessionfinish(session):
    threads = sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())
    print(f"\\nLEAKS threads={threads} sockets={_sockets() - session.config._sockets_before}")
"""


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run pytest on the temporary project, isolated from this session's environment."""
    for name in ("MOCKBIN_URL", "HTTPBIN_HTTP_PORT", "HTTPBIN_HTTPS_PORT", "PYTEST_ADDOPTS", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    for name in [name for name in os.environ if name.startswith("MOCKBIN_")]:
        monkeypatch.delenv(name)

    def runner(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *UNRELATED_PLUGINS, "-W", "error", "-s", *args)

    return runner


def no_leaks(result: pytest.RunResult) -> None:
    """No thread left, and no more sockets open than at session start."""
    (line,) = [line for line in result.outlines if line.startswith("LEAKS ")]
    threads, sockets = line[len("LEAKS threads="):].rsplit(" sockets=", 1)
    assert threads == "[]" and int(sockets) <= 0, line


def test_lifecycle_urls_reset_and_journal(pytester, run):
    pytester.makeconftest(LEAK_CHECK)
    pytester.makepyfile(
        test_life="""
        import re
        import requests

        SEEN = {}

        def test_handle_urls(mockbin):
            SEEN["port"] = mockbin.port
            assert (mockbin.scheme, mockbin.host) == ("http", "127.0.0.1")
            assert mockbin.url == str(mockbin) == f"http://127.0.0.1:{mockbin.port}"
            assert mockbin + "/get" == mockbin.url + "/get"
            assert mockbin("status", 418) == mockbin.url + "/status/418"
            assert mockbin.url_for("/get", a=1, b=["x", "y"]) == mockbin.url + "/get?a=1&b=x&b=y"
            assert mockbin.join("anything/x") == mockbin.url + "/anything/x"
            assert requests.get(mockbin.url_for("get", n=1)).json()["args"] == {"n": "1"}

        def test_same_server_fresh_journal(mockbin):
            assert mockbin.port == SEEN["port"]
            assert mockbin.requests == []

        def test_session_handle_is_the_same_server(mockbin_server, mockbin):
            assert mockbin_server.url == mockbin.url

        def test_reset_inside_a_test(mockbin):
            requests.get(mockbin + "/get")
            assert len(mockbin.requests) == 1
            mockbin.reset()
            assert mockbin.requests == []

        def test_journal_fields_and_assertions(mockbin):
            requests.post(mockbin + "/post?x=1&x=2", json={"a": [1]}, headers={"X-Id": "7"})
            requests.put(mockbin + "/put", data=b"\\xff\\x00")
            post, put = mockbin.requests
            assert (post.method, post.path, post.query, post.status) == ("POST", "/post", "x=1&x=2", 200)
            assert post.args.getlist("x") == ["1", "2"] and post.headers["x-id"] == "7"
            assert post.json() == {"a": [1]} and post.url == mockbin.url + "/post?x=1&x=2"
            assert put.body == b"\\xff\\x00" and mockbin.last_request.id == put.id
            mockbin.assert_requested("POST", "/post", count=1, json={"a": [1]}, headers={"X-Id": "7"})
            mockbin.assert_requested("POST", "/post", args={"x": ["1", "2"]})
            mockbin.assert_requested(path=re.compile(r"/p(os|u)t"), count=2)
            mockbin.assert_requested("put", "/put", body=b"\\xff\\x00")
            mockbin.assert_not_requested("GET")
            mockbin.assert_not_requested("POST", "/post", json={"a": [2]})
            assert [r.method for r in mockbin.matching(path="/put")] == ["PUT"]
        """
    )
    result = run()
    result.assert_outcomes(passed=5)
    no_leaks(result)


def test_assertion_failures_show_the_closest_requests(pytester, run):
    pytester.makepyfile(
        test_fail="""
        import requests

        def test_wrong_body(mockbin):
            requests.get(mockbin + "/get?q=1")
            requests.post(mockbin + "/post", json={"a": 2})
            requests.post(mockbin + "/pots", json={"a": 1})
            mockbin.assert_requested("POST", "/post", json={"a": 1})

        def test_wrong_count(mockbin):
            requests.get(mockbin + "/get")
            requests.get(mockbin + "/get")
            mockbin.assert_requested("GET", "/get", count=1)

        def test_unwanted(mockbin):
            requests.delete(mockbin + "/delete")
            mockbin.assert_not_requested("DELETE", "/delete")

        def test_nothing_at_all(mockbin):
            mockbin.assert_requested("GET", "/get")
        """
    )
    result = run("-p", "no:randomly")
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: expected at least one request matching POST /post json={'a': 1}, received 0",
            "*3 requests received; the closest:",
            "*#2 POST /post -> 200 body='{\"a\": 2}'",
            "*differs: json is {'a': 2}",
            "*#3 POST /pots -> 404 body='{\"a\": 1}'",
            "*differs: path is /pots",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*expected 1 request matching GET /get, received 2", "*matching requests:", "*GET /get -> 200", "*GET /get -> 200"]
    )
    result.stdout.fnmatch_lines(["*expected no request matching DELETE /delete, received 1", "*DELETE /delete -> 200"])
    result.stdout.fnmatch_lines(["*expected at least one request matching GET /get, received 0", "*no request was received at all"])
    # The failed test's report shows what the server received.
    result.stdout.fnmatch_lines(["*- mockbin requests (http://127.0.0.1:*) -*", "#* GET /get?q=1 -> 200"])
    assert "def assert_requested" not in result.stdout.str()  # the helper's frame is hidden


def test_each_xdist_worker_gets_its_own_server(pytester, run):
    pytest.importorskip("xdist")
    pytester.makeconftest(LEAK_CHECK)
    pytester.makepyfile(
        test_workers="""
        import os, pathlib
        import pytest
        import requests

        @pytest.mark.parametrize("n", range(6))
        def test_worker(mockbin, n):
            assert mockbin.requests == []
            requests.get(mockbin.url_for("get", n=n))
            assert len(mockbin.requests) == 1
            out = pathlib.Path(__file__).parent / f"seen-{n}"
            out.write_text(f"{os.environ['PYTEST_XDIST_WORKER']} {mockbin.port}")
        """
    )
    result = run("-n", "2")
    result.assert_outcomes(passed=6)
    seen = {tuple(path.read_text().split()) for path in pytester.path.glob("seen-*")}
    workers = {worker for worker, _ in seen}
    ports = {port for _, port in seen}
    assert len(workers) == 2 and len(ports) == 2, seen
    assert len(seen) == 2  # one port per worker, the same for all of that worker's tests


def test_marker_ini_and_cli_settings_choose_the_server(pytester, run):
    pytester.makeini(
        """
        [pytest]
        mockbin_settings =
            journal_body_size = 4
        """
    )
    pytester.makepyfile(
        test_settings="""
        import pytest
        import requests

        def test_default_server(mockbin):
            requests.post(mockbin + "/post", data=b"0123456789")
            (req,) = mockbin.requests
            assert (req.body, req.body_truncated) == (b"0123", True)  # from the ini option
            with pytest.raises(ValueError, match="journal-body-size"):
                req.json()

        @pytest.mark.mockbin(prefix="/api")
        def test_marked_server(mockbin, mockbin_server):
            assert mockbin.port != mockbin_server.port
            assert mockbin.url.endswith("/api")
            assert requests.get(mockbin + "/get").json()["url"] == mockbin.url + "/get"
            assert [r.path for r in mockbin.requests] == ["/get"]

        @pytest.mark.mockbin(journal_size="2")
        class TestClassMarker:
            def test_journal_size_from_the_class(self, mockbin):
                for n in range(3):
                    requests.get(mockbin.url_for("get", n=n))
                assert [r.args["n"] for r in mockbin.requests] == ["1", "2"]

        def test_cli_wins_over_ini(mockbin):
            requests.post(mockbin + "/post", data=b"0123456789")
            assert mockbin.requests[0].body == b"012345"

        @pytest.mark.mockbin(no_such_setting=1)
        def test_unknown_setting(mockbin):
            pass
        """
    )
    result = run("--mockbin-set", "journal_body_size=6", "-k", "not default_server")
    result.assert_outcomes(passed=3, errors=1, deselected=1)
    result.stdout.fnmatch_lines(["*'no_such_setting' is not a mockbin setting*"])
    result = run("-k", "default_server")
    result.assert_outcomes(passed=1, deselected=4)


def test_url_env_is_set_before_collection(pytester, run, monkeypatch):
    """Suites that read HTTPBIN_URL into a module constant point at mockbin unchanged."""
    monkeypatch.setenv("HTTPBIN_URL", "https://httpbin.org")
    pytester.makeconftest(LEAK_CHECK)
    pytester.makeini("[pytest]\nmockbin_url_env = HTTPBIN_URL OTHER_URL\n")
    pytester.makepyfile(
        test_env="""
        import os
        import requests

        HTTPBIN_URL = os.environ["HTTPBIN_URL"]  # read at import, as many suites do

        def test_constant_points_at_the_default_server(mockbin):
            assert HTTPBIN_URL == os.environ["OTHER_URL"] == mockbin.url
            requests.get(HTTPBIN_URL + "/get")
            mockbin.assert_requested("GET", "/get", count=1)
        """
    )
    result = run()
    result.assert_outcomes(passed=1)
    no_leaks(result)


def test_bad_command_line_setting_is_a_usage_error(pytester, run):
    pytester.makepyfile(test_x="def test_x(mockbin): pass")
    result = run("--mockbin-set", "journal_size=many")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mockbin-set: invalid value for journal_size: 'many' is not a whole number"])


@pytest.mark.parametrize("setting", ["port=8080", "workers=4", "threads=2"])
def test_server_process_settings_are_refused_not_ignored(pytester, run, setting):
    """The in-process servers have no port, workers or threads to set: say so instead of ignoring it."""
    pytester.makepyfile(test_x="def test_x(mockbin): pass")
    result = run("--mockbin-set", setting)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--mockbin-set: '{setting.split('=')[0]}' configures `mockbin serve`'s server process*"])


def test_marker_with_a_server_process_setting_fails_the_test(pytester, run):
    pytester.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.mockbin(workers=2)
        def test_x(mockbin):
            pass
        """
    )
    result = run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.mockbin: 'workers' configures `mockbin serve`'s server process*"])


def test_a_sidecar_url_without_a_scheme_is_a_usage_error(pytester, run, monkeypatch):
    monkeypatch.setenv("MOCKBIN_URL", "mockbin:8080")
    pytester.makepyfile(test_x="def test_x(mockbin): pass")
    result = run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*MOCKBIN_URL*'mockbin:8080' is not an http:// URL*http://mockbin:8080*"])


def test_https_fixtures(pytester, run):
    pytester.makeconftest(
        LEAK_CHECK
        + """
import pathlib
CA = []

def pytest_unconfigure(config):
    print(f"CA-LEFT {[pathlib.Path(path).exists() for path in CA]}")
"""
    )
    pytester.makepyfile(
        test_tls="""
        import json, ssl, urllib.request
        import requests
        from conftest import CA

        def test_post_over_https(mockbin_secure, mockbin_ca_bundle, mockbin_ssl_context, mockbin):
            CA.append(mockbin_ca_bundle)
            assert mockbin_secure.scheme == "https" and mockbin_secure.url.startswith("https://127.0.0.1:")
            answer = requests.post(mockbin_secure + "/post", json={"tls": 1}, verify=mockbin_ca_bundle).json()
            assert answer["json"] == {"tls": 1} and answer["url"] == mockbin_secure + "/post"
            request = urllib.request.Request(mockbin_secure + "/post", data=b"urllib",
                                             headers={"Content-Type": "text/plain"}, method="POST")
            with urllib.request.urlopen(request, context=mockbin_ssl_context) as response:
                assert json.load(response)["data"] == "urllib"
            # One app behind both schemes: one journal.
            assert [r.url.split(":")[0] for r in mockbin.requests] == ["https", "https"]

        def test_localhost_name_is_certified_too(mockbin_secure, mockbin_ca_bundle):
            url = mockbin_secure.url.replace("127.0.0.1", "localhost") + "/get"
            assert requests.get(url, verify=mockbin_ca_bundle).status_code == 200

        def test_both(mockbin_both, mockbin_ca_bundle):
            response = requests.get(mockbin_both + "/get", verify=mockbin_ca_bundle)
            assert response.json()["url"].startswith(mockbin_both.scheme + "://")
        """
    )
    result = run("-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_both?http? PASSED*", "*test_both?https? PASSED*"])
    no_leaks(result)
    result.stdout.fnmatch_lines(["CA-LEFT [[]False[]]"])


HTTPBIN_COMPAT_TESTS = """
import unittest
import pytest
import requests
from mockbin import use_class_based_httpbin, use_class_based_httpbin_secure

def test_attributes(httpbin):
    assert (httpbin.protocol, httpbin.host) == ("http", "127.0.0.1")
    assert httpbin.url == str(httpbin) == f"http://127.0.0.1:{httpbin.port}"
    assert httpbin + "/get" == httpbin.join("/get") == httpbin.join("get") == httpbin.url + "/get"
    assert requests.get(httpbin + "/get").json()["url"] == httpbin + "/get"
    assert httpbin.app is not None

def test_secure_with_ca_bundle(httpbin_secure, httpbin_ca_bundle):
    assert httpbin_ca_bundle is None  # the fixture sets REQUESTS_CA_BUNDLE, as pytest-httpbin's
    assert httpbin_secure.protocol == "https"
    assert requests.post(httpbin_secure + "/post", data="x").json()["data"] == "x"

def test_both(httpbin_both, httpbin_ca_bundle):
    assert requests.get(httpbin_both.join("/get")).status_code == 200

@use_class_based_httpbin
@use_class_based_httpbin_secure
class TestUnittestStyle(unittest.TestCase):
    def test_servers_on_self(self):
        assert self.httpbin.protocol == "http" and self.httpbin_secure.protocol == "https"
"""


def test_pytest_httpbin_fixtures(pytester, run, monkeypatch):
    pytester.makeconftest(LEAK_CHECK)
    pytester.makepyfile(test_compat=HTTPBIN_COMPAT_TESTS)
    port, secure_port = free_port(), free_port()
    monkeypatch.setenv("HTTPBIN_HTTP_PORT", str(port))
    monkeypatch.setenv("HTTPBIN_HTTPS_PORT", str(secure_port))
    pytester.makepyfile(
        test_ports=f"""
        def test_pinned_ports(httpbin, httpbin_secure, mockbin):
            assert (httpbin.port, httpbin_secure.port) == ({port}, {secure_port})
            assert mockbin.port == {port}  # one default server
        """
    )
    result = run()
    result.assert_outcomes(passed=6)
    no_leaks(result)


def test_httpbin_fixtures_turned_off_by_ini(pytester, run):
    pytester.makeini("[pytest]\nmockbin_httpbin_fixtures = false\n")
    pytester.makepyfile(test_x="def test_x(httpbin): pass\ndef test_y(mockbin): pass")
    result = run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'httpbin' not found*"])


def test_httpbin_fixtures_step_aside_for_pytest_httpbin(pytester, run):
    # pytest-httpbin registers its plugin under the name "httpbin": stand in for it.
    pytester.makeconftest(
        """
        import pytest

        class FakePytestHttpbin:
            @pytest.fixture
            def httpbin(self):
                return "pytest-httpbin's own"

        @pytest.hookimpl(tryfirst=True)
        def pytest_configure(config):
            config.pluginmanager.register(FakePytestHttpbin(), "httpbin")
        """
    )
    pytester.makepyfile(
        test_x="""
        def test_theirs(httpbin):
            assert httpbin == "pytest-httpbin's own"

        def test_no_secure(request):
            import pytest
            with pytest.raises(pytest.FixtureLookupError):
                request.getfixturevalue("httpbin_secure")
        """
    )
    run().assert_outcomes(passed=2)


@pytest.fixture(scope="module")
def sidecar():
    """mockbin under gunicorn, as a docker-compose service would run it, journal on."""
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--journal", "--workers", "1"), port) as server:
        yield server


def test_sidecar_mode_attaches_and_resets(pytester, run, monkeypatch, sidecar):
    monkeypatch.setenv("MOCKBIN_URL", sidecar.url)
    pytester.makepyfile(
        test_sidecar=f"""
        import requests

        def test_first(mockbin, httpbin):
            assert mockbin.url == httpbin.url == "{sidecar.url}"
            requests.get(mockbin + "/get", params={{"from": "test"}})
            mockbin.assert_requested("GET", "/get", args={{"from": "test"}}, count=1)

        def test_second_starts_empty(mockbin):
            assert mockbin.requests == []

        def test_https_still_in_process(mockbin_secure, mockbin_ca_bundle):
            assert mockbin_secure.url != "{sidecar.url}"
            assert requests.get(mockbin_secure + "/get", verify=mockbin_ca_bundle).status_code == 200
        """
    )
    run().assert_outcomes(passed=3)


def test_sidecar_unreachable_is_a_clear_error(pytester, run, monkeypatch):
    monkeypatch.setenv("MOCKBIN_URL", f"http://127.0.0.1:{free_port()}")
    pytester.makepyfile(test_x="def test_x(mockbin): pass")
    result = run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*MOCKBIN_URL=http://127.0.0.1:* is set but that mockbin does not answer*"])


def test_sidecar_without_journal_says_how_to_turn_it_on(pytester, run, monkeypatch):
    port = free_port()
    with ServerProcess(mockbin_argv(port, "--workers", "1", "--worker-class", "sync"), port) as server:
        monkeypatch.setenv("MOCKBIN_URL", server.url)
        pytester.makepyfile(test_x="def test_x(mockbin):\n    mockbin.requests\n")
        result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AdminError: GET /__mockbin/requests on * answered 404: *--journal (or MOCKBIN_JOURNAL=1)*"])


# -- the admin token ----------------------------------------------------------


def test_in_process_servers_take_the_token_from_the_settings_and_the_handle_sends_it(pytester, run):
    pytester.makeini("[pytest]\nmockbin_settings =\n    admin_token=ini-token\n")
    pytester.makepyfile(
        test_token="""
        import pytest
        import requests

        def test_handle_and_reset_work(mockbin):
            requests.get(mockbin + "/get?x=1")
            mockbin.assert_requested("GET", "/get", args={"x": "1"})
            assert requests.get(mockbin + "/__mockbin/requests").status_code == 401
            answer = requests.get(mockbin + "/__mockbin/requests", headers={"Authorization": "Bearer ini-token"})
            assert answer.status_code == 200 and len(answer.json()) == 1

        def test_reset_happened(mockbin):
            assert mockbin.requests == []

        def test_https_too(mockbin_secure, mockbin_ca_bundle):
            assert mockbin_secure.requests == []
            assert requests.get(mockbin_secure + "/__mockbin/health", verify=mockbin_ca_bundle).status_code == 200

        @pytest.mark.mockbin(admin_token="")
        def test_a_marker_turns_it_off(mockbin):
            assert requests.get(mockbin + "/__mockbin/requests").status_code == 200
        """
    )
    run().assert_outcomes(passed=4)


def test_in_process_servers_check_host_even_when_mockbin_host_says_0_0_0_0(pytester, run, monkeypatch):
    monkeypatch.setenv("MOCKBIN_HOST", "0.0.0.0")  # as inside the container image
    pytester.makepyfile(
        test_host="""
        import requests

        def test_rebinding_refused(mockbin):
            assert requests.get(mockbin + "/__mockbin/requests", headers={"Host": "evil.example"}).status_code == 403
            assert requests.get(mockbin + "/__mockbin/requests").status_code == 200
        """
    )
    run().assert_outcomes(passed=1)


def test_the_token_is_never_shown_in_a_settings_repr():
    from mockbin.settings import Settings

    assert "hidden-value" not in repr(Settings(admin_token="hidden-value"))


@pytest.fixture(scope="module")
def token_sidecar():
    port = free_port()
    argv = mockbin_argv(port, "--journal", "--workers", "1", "--admin-token", "side-token")
    with ServerProcess(argv, port) as server:
        yield server


def test_sidecar_mode_sends_mockbin_admin_token(pytester, run, monkeypatch, token_sidecar):
    monkeypatch.setenv("MOCKBIN_URL", token_sidecar.url)
    monkeypatch.setenv("MOCKBIN_ADMIN_TOKEN", "side-token")
    pytester.makepyfile(
        test_sidecar="""
        import requests

        def test_first(mockbin):
            requests.get(mockbin + "/get", params={"n": "1"})
            mockbin.assert_requested("GET", "/get", args={"n": "1"}, count=1)

        def test_second_starts_empty(mockbin):
            assert mockbin.requests == []
        """
    )
    run().assert_outcomes(passed=2)


def test_sidecar_mode_without_the_token_says_what_is_missing(pytester, run, monkeypatch, token_sidecar):
    monkeypatch.setenv("MOCKBIN_URL", token_sidecar.url)
    pytester.makepyfile(test_x="def test_x(mockbin): pass")
    result = run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*MOCKBIN_URL=*: its admin API refuses this session*401*set MOCKBIN_ADMIN_TOKEN*"])


# -- stateful mode (needs the 'stateful' branch) ------------------------------


def test_store_seed_read_and_reset_per_test(pytester, run):
    pytester.makepyfile(
        test_store="""
        import pytest
        import requests

        pytestmark = pytest.mark.mockbin(stateful=True)

        def test_seed_then_read_over_http(mockbin):
            mockbin.store.seed({"/store/things/1": {"name": "one"}})
            response = requests.get(mockbin + "/store/things/1")
            assert response.status_code == 200 and response.json() == {"name": "one"}
            assert "/store/things/1" in mockbin.store

        def test_written_over_http_read_from_store(mockbin):
            assert len(mockbin.store) == 0  # nothing left from the previous test
            assert requests.put(mockbin + "/store/a", json={"x": 1}).status_code == 201
            assert mockbin.store["/store/a"] == {"x": 1}
            assert mockbin.store.get("/store/missing", "default") == "default"
            mockbin.store["/store/b"] = b"\\x00raw"
            assert mockbin.store["/store/b"] == b"\\x00raw"
            del mockbin.store["/store/a"]
            assert sorted(mockbin.store) == ["/store/b"]
            mockbin.store.clear()
            assert mockbin.store.dump()["items"] == {}
        """
    )
    run().assert_outcomes(passed=2)


def test_stateful_for_the_whole_session_from_the_command_line(pytester, run):
    pytester.makepyfile(
        test_store="""
        import requests

        def test_stateful_without_marker(mockbin):
            assert requests.put(mockbin + "/store/k", json=[1]).status_code == 201
            assert mockbin.store["/store/k"] == [1]
        """
    )
    run("--mockbin-set", "stateful=1").assert_outcomes(passed=1)


def test_store_needs_the_stateful_mode(pytester, run):
    """Without the stateful mode the store's admin API is absent: the error says how to turn it on."""
    pytester.makepyfile(test_x="def test_x(mockbin):\n    mockbin.store.dump()\n")
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AdminError: GET /__mockbin/store on * answered 404*"])
    result.stdout.fnmatch_lines(["*--stateful*"])


def test_plugin_is_registered_by_entry_point():
    from importlib.metadata import entry_points

    found = [ep for ep in entry_points(group="pytest11") if ep.name == "mockbin"]
    assert [ep.value for ep in found] == ["mockbin.testing.plugin"]
    assert sys.modules.get("mockbin.testing.plugin") is not None  # loaded into this very session


def test_fault_rules_are_removed_after_the_test(pytester, run):
    pytester.makeconftest(LEAK_CHECK)
    pytester.makepyfile(
        test_faults="""
        import pytest
        import requests

        def test_adds_a_fault(mockbin):
            rule = mockbin.fault("connection-reset", "/get", "GET")
            with pytest.raises(requests.ConnectionError):
                requests.get(mockbin + "/get")
            assert rule.fired == 1
            assert [r.id for r in mockbin.faults] == [rule.id]
            assert mockbin.last_request.fault == {"rule": rule.id, "fault": "connection-reset", "when": "before"}

        def test_next_code_is_not_faulted(mockbin_server):
            # mockbin_server is not reset: only the plugin's clean-up can have removed the rule.
            assert mockbin_server.faults == []
            assert requests.get(mockbin_server + "/get").status_code == 200
        """
    )
    result = run()
    result.assert_outcomes(passed=2)
    no_leaks(result)
