"""mockbin's configuration: one typed object, read from flags, env vars and defaults.

Every field of :class:`Settings` is at once a ``mockbin serve`` flag
(``--max-body-size``) and an environment variable (``MOCKBIN_MAX_BODY_SIZE``).
Flags win over environment variables, which win over the defaults written
here.  A value that does not parse raises :class:`SettingsError` with a
one-line reason naming both spellings, so the CLI can exit with status 2.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from .store_urls import StoreURLError, parse_url

ENV_PREFIX = "MOCKBIN_"
#: Where mockbin's own API lives (health, reset, journal, store); never a route of httpbin's.
ADMIN_PREFIX = "/__mockbin"
#: The environ key under which the app's mount puts its :class:`Settings` for every request.
ENVIRON_KEY = "mockbin.settings"

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
}
_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_LOG_FORMATS = ("text", "json")
#: HTTP servers mockbin can run under (mockbin/serving/); granian is the extra ``fast``.
SERVERS = ("gunicorn", "granian")
#: gunicorn worker classes (mockbin/serving/workers.py).
WORKER_CLASSES = ("gevent", "gthread", "sync")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class SettingsError(ValueError):
    """A setting has a value mockbin cannot use; the message is one line."""


# -- parsers: text (from a flag or an env var) -> typed value ---------------


def parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise SettingsError(f"{text!r} is not a whole number") from None


def parse_size(text: str) -> int:
    """Bytes, with an optional unit: ``1048576``, ``512KiB``, ``100MiB``, ``1GB``."""
    match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise SettingsError(f"{text!r} is not a size (examples: 1048576, 512KiB, 100MiB)")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]


_DURATION_UNITS = {"": 1.0, "s": 1.0, "ms": 0.001, "m": 60.0}


def parse_duration(text: str) -> float:
    """Seconds, with an optional unit: ``10``, ``2.5``, ``10s``, ``500ms``, ``1m``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).lower() not in _DURATION_UNITS:
        raise SettingsError(f"{text!r} is not a duration (examples: 10, 2.5, 10s, 500ms, 1m)")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]


_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_GO_DURATION = re.compile(r"(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+")
_GO_TERM = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """Seconds from Go's duration spelling, as go-httpbin reads its parameters.

    One or more terms, each a number and a unit (``ns``, ``us``/``\u00b5s``,
    ``ms``, ``s``, ``m``, ``h``): ``500ms``, ``1.5s``, ``1m30s``.  A lone ``0``
    needs no unit; signs are not accepted (no duration here is negative).
    """
    stripped = text.strip()
    if stripped == "0":
        return 0.0
    if not _GO_DURATION.fullmatch(stripped):
        raise SettingsError(f"{text!r} is not a duration (examples: 500ms, 1.5s, 1m30s)")
    return sum(float(number) * _GO_UNITS[unit] for number, unit in _GO_TERM.findall(stripped))


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{text!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def parse_log_level(text: str) -> str:
    lowered = text.strip().lower()
    if lowered not in _LOG_LEVELS:
        raise SettingsError(f"{text!r} is not a log level ({', '.join(_LOG_LEVELS)})")
    return lowered


def parse_log_format(text: str) -> str:
    lowered = text.strip().lower()
    if lowered not in _LOG_FORMATS:
        raise SettingsError(f"{text!r} is not a log format ({', '.join(_LOG_FORMATS)})")
    return lowered


def parse_str(text: str) -> str:
    return text


def _choice(kind: str, choices: Tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        lowered = text.strip().lower()
        if lowered not in choices:
            raise SettingsError(f"{text!r} is not {kind} ({', '.join(choices)})")
        return lowered

    parse.__name__ = f"parse_{kind.split()[-1]}"
    return parse


parse_server = _choice("a server", SERVERS)
parse_worker_class = _choice("a worker class", WORKER_CLASSES)


def parse_path(text: str) -> str:
    """A file path; ``~`` expands to the home directory."""
    return os.path.expanduser(text.strip()) if text.strip() else ""


def parse_list(text: str) -> Tuple[str, ...]:
    """A comma-separated list; blanks around items and empty items are dropped."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def parse_prefix(text: str) -> str:
    """A path prefix: empty, or starting with ``/`` and not ending with one."""
    prefix = text.strip()
    if prefix and (not prefix.startswith("/") or prefix.endswith("/") or "//" in prefix):
        raise SettingsError(f"{text!r} is not a path prefix (like /httpbin: a leading /, no trailing /)")
    return prefix


def parse_store_url(text: str) -> str:
    """A store URL: empty (automatic), ``memory://``, ``sqlite:///path`` or ``redis://host:port/db``.

    Only the shape is checked here; whether the file can be written or the
    Redis server answers is checked when the store opens at start-up.
    """
    url = text.strip()
    if url:
        try:
            parse_url(url)
        except StoreURLError as exc:
            raise SettingsError(str(exc)) from None
    return url


def parse_field_name(text: str) -> str:
    """A JSON member name for the injected id: non-empty."""
    name = text.strip()
    if not name:
        raise SettingsError("an empty field name is not allowed (turn injection off with --no-store-inject-id)")
    return name


def normalise_host(host: str) -> str:
    """Lower case, no trailing dot, IDNA (``bücher.example`` -> ``xn--bcher-kva.example``)."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


def parse_hosts(text: str) -> Tuple[str, ...]:
    """Comma-separated host names, ``*.example.com`` for subdomains; lower-cased, IDNA."""
    hosts = []
    for item in parse_list(text):
        wildcard = item.startswith("*.")
        bare = item[2:] if wildcard else item
        if not bare or re.search(r"[/\\@%?#*\s]", bare) or bare.count(":") == 1:
            raise SettingsError(
                f"{item!r} is not a host name (like example.com or *.example.com; "
                "no scheme, port or path)"
            )
        hosts.append(("*." if wildcard else "") + normalise_host(bare))
    return tuple(hosts)


# -- checks: typed value -> error message or None ---------------------------


def _port_range(value: int) -> Optional[str]:
    return None if 0 <= value <= 65535 else f"{value} is not a TCP port (0-65535)"


def _at_least(minimum: int) -> Callable[[int], Optional[str]]:
    def check(value: int) -> Optional[str]:
        return None if value >= minimum else f"{value} is below the minimum of {minimum}"

    return check


def _bearer_token(value: str) -> Optional[str]:
    """RFC 6750's b64token (letters, digits, ``-._~+/``, then ``=``), or empty; never echoes it."""
    if not value or re.fullmatch(r"[A-Za-z0-9\-._~+/]+=*", value):
        return None
    return "a bearer token may hold only letters, digits, -._~+/ and trailing = (try: openssl rand -hex 32)"


def _between(minimum: int, maximum: int) -> Callable[[int], Optional[str]]:
    def check(value: int) -> Optional[str]:
        if minimum <= value <= maximum:
            return None
        return f"{value} is outside the range {minimum}-{maximum}"

    return check


def _non_empty(value: str) -> Optional[str]:
    return None if value.strip() else "an empty value is not allowed"


def setting(
    default: Any,
    help: str,
    parse: Callable[[str], Any],
    check: Optional[Callable[[Any], Optional[str]]] = None,
    metavar: str = "",
    group: str = "server",
    secret: bool = False,
) -> Any:
    """Declare one setting: its default, its ``--help`` line and how to read it.

    A *secret* one (a token) is left out of the settings' ``repr``, so no
    error message, log line or pytest traceback that shows them leaks it.
    """
    return field(
        default=default,
        repr=not secret,
        metadata={"help": help, "parse": parse, "check": check, "metavar": metavar, "group": group},
    )


@dataclass(frozen=True)
class Settings:
    """Everything mockbin can be told; see docs/configuration.md for the long form."""

    # -- server --
    host: str = setting(
        "127.0.0.1",
        "Address to listen on (0.0.0.0 for every interface).",
        parse_str,
        _non_empty,
        "ADDR",
    )
    port: int = setting(
        8080, "TCP port to listen on; 0 picks a free one.", parse_int, _port_range, "PORT"
    )
    server: str = setting(
        "gunicorn",
        "HTTP server: gunicorn, or granian (faster; HTTP/2; needs the extra fast: "
        "pip install '.[fast]' in the mockbin clone).",
        parse_server,
        None,
        "SERVER",
    )
    worker_class: str = setting(
        "gevent",
        "gunicorn's worker: gevent (one greenlet per connection: slow clients never block "
        "others), gthread (--threads threads per worker) or sync (one request at a time).",
        parse_worker_class,
        None,
        "KIND",
    )
    worker_connections: int = setting(
        4096,
        "Most connections one worker serves at once (gevent worker, granian); more wait "
        "in the listen queue.",
        parse_int,
        _at_least(1),
        "N",
    )
    tls_cert: str = setting(
        "",
        "Serve HTTPS with this PEM certificate file (the chain, leaf first); needs --tls-key.",
        parse_path,
        None,
        "FILE",
    )
    tls_key: str = setting(
        "", "The PEM private key file of --tls-cert.", parse_path, None, "FILE"
    )
    tls_self_signed: bool = setting(
        False,
        "Serve HTTPS with a certificate minted at start by a new CA, for localhost, "
        "127.0.0.1, ::1 and --host; the CA goes to --tls-ca-file for clients to trust.",
        parse_bool,
        None,
        "BOOL",
    )
    tls_ca_file: str = setting(
        "",
        "Where --tls-self-signed writes its CA certificate (PEM); empty: "
        "mockbin-ca-PORT.pem in the temporary directory. The path is printed at start.",
        parse_path,
        None,
        "PATH",
    )
    http2: bool = setting(
        False,
        "Serve HTTP/2 besides HTTP/1.1 (--server granian): by ALPN over TLS, with prior "
        "knowledge (h2c) on cleartext.",
        parse_bool,
        None,
        "BOOL",
    )
    workers: int = setting(
        1, "Number of worker processes.", parse_int, _at_least(1), "N"
    )
    threads: int = setting(
        1,
        "Threads per worker that run requests: the gthread worker's pool, granian's blocking "
        "threads. Each slow request (/delay, /drip) holds one; more threads cost granian "
        "throughput (they share the GIL). The gevent worker needs none (a greenlet per "
        "connection), sync runs one.",
        parse_int,
        _at_least(1),
        "N",
    )
    log_level: str = setting(
        "info", "Log level: debug, info, warning, error or critical.", parse_log_level, None, "LEVEL"
    )
    timeout: int = setting(
        30,
        "Seconds before gunicorn restarts a worker that stopped responding; with --worker-class sync "
        "it also caps each request. 0: never.",
        parse_int,
        _at_least(0),
        "SECONDS",
    )
    graceful_timeout: int = setting(
        30,
        "Seconds in-flight requests get to finish after SIGTERM before workers are killed.",
        parse_int,
        _at_least(0),
        "SECONDS",
    )
    access_log: bool = setting(
        True,
        "One line per request on stdout (never bodies) at log level info or debug; --no-access-log (or MOCKBIN_ACCESS_LOG=0) turns it off.",
        parse_bool,
        None,
        "BOOL",
    )
    log_format: str = setting(
        "text",
        "Access log format: text (combined log format) or json (one object per line).",
        parse_log_format,
        None,
        "FORMAT",
    )
    max_body_size: int = setting(
        100 * 1024**2,
        "Largest request body accepted, declared or chunked; larger ones get 413. "
        "Accepts units: 512KiB, 100MiB, 1GB.",
        parse_size,
        _at_least(0),
        "SIZE",
        group="limits",
    )
    max_json_values: int = setting(
        1_000_000,
        "Most values (numbers, strings, arrays, objects...) a JSON body may hold where mockbin "
        "parses it: the echo's json field, the stateful mode's POST and PATCH, a patch result. "
        "More get 413: parsed JSON costs up to 50 times its size in memory.",
        parse_int,
        _at_least(1),
        "N",
        group="limits",
    )
    max_json_expansion: int = setting(
        10,
        "Most memory the parsed form of a JSON body may take, as a multiple of the body's size, "
        "where mockbin parses it (estimated from the body's bytes; a parsed form under 8 MiB is always "
        "allowed). More get 413: a text made of tiny arrays, objects or strings costs 25 times its "
        "size once parsed. 0: no such limit.",
        parse_int,
        _at_least(0),
        "N",
        group="limits",
    )

    # -- dynamic data and extras (routes/dynamic.py, routes/extras.py) --
    max_duration: float = setting(
        10.0,
        "Longest time a client may ask a slow route to take: /delay is cut to it (as httpbin "
        "cuts at 10 s); /drip, /range?duration and /sse beyond it get 400. Accepts 2.5, 500ms, 1m.",
        parse_duration,
        None,
        "SECONDS",
        group="limits",
    )
    max_generated_size: int = setting(
        10 * 1024**2,
        "Largest body /bytes, /stream-bytes, /range, /drip and /sse may generate; larger "
        "requests get 400 (httpbin's own caps, 100 KiB and 10 MiB, apply first).",
        parse_size,
        _at_least(0),
        "SIZE",
        group="limits",
    )

    prefix: str = setting(
        "",
        "Serve every route under this path prefix (like /httpbin); empty for the root.",
        parse_prefix,
        None,
        "PATH",
        group="routing",
    )
    exclude_headers: Tuple[str, ...] = setting(
        (),
        "Comma-separated request header names left out of echoes; * is a wildcard "
        "(like X-Amzn-*,Fly-*). Case-insensitive.",
        parse_list,
        None,
        "NAMES",
        group="routing",
    )

    # -- stateful mode (mockbin/store/) --
    stateful: bool = setting(
        False,
        "Serve the stateful mode: PUT stores a body at any path no httpbin route claims, "
        "POST appends to a collection (see docs/stateful.md).",
        parse_bool,
        None,
        "BOOL",
        group="stateful",
    )
    store: str = setting(
        "",
        "Where the stateful mode keeps its data: memory://, sqlite:///path/file.db or "
        "redis://host:port/db. Empty: memory:// with one worker, an embedded SQLite file "
        "in a temporary directory with more.",
        parse_store_url,
        None,
        "URL",
        group="stateful",
    )
    store_prefix: str = setting(
        "",
        "Confine the stateful mode to paths under this prefix (like /store); empty: every "
        "path no httpbin route claims.",
        parse_prefix,
        None,
        "PATH",
        group="stateful",
    )
    store_max_items: int = setting(
        100_000,
        "Most items the store holds; a write past it gets 507 and nothing stored is lost.",
        parse_int,
        _at_least(1),
        "N",
        group="stateful",
    )
    store_max_bytes: int = setting(
        256 * 1024**2,
        "Most bytes the store holds, all items together (bodies and idempotency records); a write "
        "past it gets 507. "
        "Accepts units: 512KiB, 100MiB, 1GB.",
        parse_size,
        _at_least(0),
        "SIZE",
        group="stateful",
    )
    store_max_page: int = setting(
        1000,
        "Most members one collection GET returns; larger _per_page or limit values get 400.",
        parse_int,
        _at_least(1),
        "N",
        group="stateful",
    )
    require_if_match: bool = setting(
        False,
        "Refuse PUT, PATCH and DELETE of an existing item without If-Match (428), "
        "so no client can overwrite a change it has not seen.",
        parse_bool,
        None,
        "BOOL",
        group="stateful",
    )
    store_inject_id: bool = setting(
        True,
        "Write the new id into JSON-object bodies created by POST (under --store-id-field).",
        parse_bool,
        None,
        "BOOL",
        group="stateful",
    )
    store_id_field: str = setting(
        "id",
        "Name of the member that receives the id of a POSTed JSON object.",
        parse_field_name,
        None,
        "NAME",
        group="stateful",
    )
    idempotency_key_ttl: int = setting(
        86400,
        "Seconds a completed POST is remembered under its Idempotency-Key for replays.",
        parse_int,
        _at_least(1),
        "SECONDS",
        group="stateful",
    )
    require_idempotency_key: bool = setting(
        False,
        "Refuse a POST without an Idempotency-Key header (400).",
        parse_bool,
        None,
        "BOOL",
        group="stateful",
    )
    store_max_depth: int = setting(
        100,
        "Deepest nesting of a JSON document the stateful mode parses (a POSTed object, a PATCH "
        "document, its target and result); deeper ones get 413. At most 256.",
        parse_int,
        _between(1, 256),
        "N",
        group="stateful",
    )
    store_patch_max_operations: int = setting(
        1000,
        "Most operations in one JSON Patch document; more get 413.",
        parse_int,
        _at_least(1),
        "N",
        group="stateful",
    )

    # -- extras beyond httpbin (routes/cookies.py, routes/extras.py, routes/protocols.py, faults/) --
    cookie_attributes: bool = setting(
        False,
        "Read go-httpbin's attr[Name]=value parameters of /cookies/set and /cookies/delete as "
        "attributes (Path, Domain, Expires, Max-Age, Secure, HttpOnly, SameSite, Partitioned) of "
        "the cookies set; off, they are cookies named attr[Name], as in httpbin.",
        parse_bool,
        None,
        "BOOL",
        group="extras",
    )

    # -- diagnostics (routes/diagnostics.py) --
    expose_hostname: bool = setting(
        False,
        "Show the machine's real host name on /hostname instead of a placeholder.",
        parse_bool,
        None,
        "BOOL",
        group="diagnostics",
    )

    # -- redirects --
    allowed_redirect_domains: Tuple[str, ...] = setting(
        (),
        "Comma-separated hosts /redirect-to may send clients to (*.example.com for subdomains); "
        "others get 403. Relative URLs are always allowed. Empty: any host, as httpbin.",
        parse_hosts,
        None,
        "HOSTS",
        group="routing",
    )

    # -- journal --
    journal: bool = setting(
        False,
        "Record requests for GET /__mockbin/requests (the pytest plugin turns it on). "
        "Each worker process keeps its own journal: use --workers 1 to see every request.",
        parse_bool,
        None,
        "BOOL",
        group="journal",
    )
    journal_size: int = setting(
        1000,
        "Most requests the journal keeps; the oldest are dropped first.",
        parse_int,
        _at_least(1),
        "N",
        group="journal",
    )
    journal_body_size: int = setting(
        16 * 1024,
        "Bytes of each request body the journal keeps (longer bodies are marked truncated). "
        "Accepts units: 512KiB, 1MiB.",
        parse_size,
        _at_least(0),
        "SIZE",
        group="journal",
    )

    journal_max_bytes: int = setting(
        64 * 1024**2,
        "Most memory the journal's entries may take, headers and kept bodies together (about); "
        "the oldest are dropped first. Accepts units: 512KiB, 64MiB.",
        parse_size,
        _at_least(0),
        "SIZE",
        group="journal",
    )

    # -- admin API and safety (admin.py, routes/safety.py, docs/security.md) --
    admin_token: str = setting(
        "",
        "Require Authorization: Bearer TOKEN on every /__mockbin/ request but /__mockbin/health "
        "(401 otherwise). Empty: no token. Set it whenever mockbin listens beyond loopback.",
        parse_str,
        _bearer_token,
        "TOKEN",
        group="admin",
        secret=True,
    )
    admin_hosts: Tuple[str, ...] = setting(
        (),
        "Comma-separated Host names the admin API answers besides loopback ones (*.example.com "
        "for subdomains); other Hosts get 403 on a loopback bind, or always once this is set.",
        parse_hosts,
        None,
        "HOSTS",
        group="admin",
    )
    safe_responses: bool = setting(
        False,
        "Serve the routes that reflect client-chosen content (/base64, /response-headers with a "
        "Content-Type, ...) as text/plain with X-Content-Type-Options: nosniff. Off: exact httpbin.",
        parse_bool,
        None,
        "BOOL",
        group="admin",
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            check = f.metadata.get("check")
            problem = check(getattr(self, f.name)) if check else None
            if problem:
                raise SettingsError(f"invalid value for {describe(f.name)}: {problem}")
        problem = self._server_problem()
        if problem:
            raise SettingsError(problem)
        if not self.stateful:
            for f in dataclasses.fields(self):
                if f.metadata["group"] == "stateful" and f.name != "stateful" and getattr(self, f.name) != f.default:
                    raise SettingsError(
                        f"{describe(f.name)} configures the stateful mode, which is off: "
                        f"add {flag_name('stateful')} ({env_name('stateful')}=1) or drop it"
                    )

    def _server_problem(self) -> Optional[str]:
        """Why the server, TLS and HTTP/2 settings do not go together, or None."""
        if bool(self.tls_cert) != bool(self.tls_key):
            given, missing = ("tls_cert", "tls_key") if self.tls_cert else ("tls_key", "tls_cert")
            return f"{describe(given)} needs {describe(missing)} too"
        if self.tls_self_signed and self.tls_cert:
            return (
                f"{flag_name('tls_self_signed')} mints a certificate, {flag_name('tls_cert')} "
                "brings one: choose one of them"
            )
        if self.tls_ca_file and not self.tls_self_signed:
            return (
                f"{describe('tls_ca_file')} is where {flag_name('tls_self_signed')} writes its CA: "
                f"add {flag_name('tls_self_signed')} or drop it"
            )
        if self.server == "gunicorn" and self.http2:
            return f"{describe('http2')} needs {flag_name('server')} granian (gunicorn serves HTTP/1.1 here)"
        if self.server == "granian" and self.worker_class != "gevent":
            return (
                f"{describe('worker_class')} chooses a gunicorn worker; {flag_name('server')} granian "
                "has its own (threads: --threads): drop it"
            )
        return None

    @property
    def tls(self) -> bool:
        """Whether mockbin serves HTTPS."""
        return bool(self.tls_cert) or self.tls_self_signed

    @classmethod
    def from_sources(
        cls, flags: Optional[Mapping[str, Any]] = None, environ: Optional[Mapping[str, str]] = None
    ) -> "Settings":
        """Build settings from flags over env vars over defaults.

        Flag values may be text (``--max-body-size 1MiB``) or already typed
        (a switch's True); both go through :func:`parse_value`, as env vars do.
        """
        environ = os.environ if environ is None else environ
        values: Dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            name = env_name(f.name)
            if name in environ:
                values[f.name] = parse_value(f.name, environ[name])
        for key, value in (flags or {}).items():
            if value is not None:
                values[key] = parse_value(key, value)
        return cls(**values)

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "Settings":
        return cls.from_sources(None, environ)

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


def flag_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def describe(field_name: str) -> str:
    return f"{flag_name(field_name)} ({env_name(field_name)})"


def fields() -> Tuple["dataclasses.Field[Any]", ...]:
    return dataclasses.fields(Settings)


def declaration(name: str) -> "dataclasses.Field[Any]":
    """The declaration of setting *name*; :class:`SettingsError` naming the known ones if none."""
    for f in dataclasses.fields(Settings):
        if f.name == name:
            return f
    known = ", ".join(f.name for f in dataclasses.fields(Settings))
    raise SettingsError(f"{name!r} is not a mockbin setting (known: {known})")


def parse_value(name: str, value: Any, source: str = "") -> Any:
    """The typed value of setting *name*: the one parser behind flags, env vars, ini lines and markers.

    Text goes through the setting's parser; a value that is already typed (a
    switch's True, a marker's ``journal_size=50``) is checked for its type.
    Errors read ``invalid value for --flag (MOCKBIN_VAR): why``.
    """
    spec = declaration(name)
    where = source or describe(name)
    try:
        if isinstance(value, str):
            return spec.metadata["parse"](value)
        return _typed(spec.default, value)
    except SettingsError as exc:
        raise SettingsError(f"invalid value for {where}: {exc}") from None


def _typed(default: Any, value: Any) -> Any:
    """*value* if it has the type of *default* (ints may stand for floats, lists for tuples)."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(default, tuple):
        if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            return tuple(value)
    raise SettingsError(f"{value!r} is not a {type(default).__name__} (give it as text to have it parsed)")


def settings_of(environ: Mapping[str, Any]) -> Settings:
    """The settings of the app serving this request (the mount puts them in every environ).

    A handler called outside an app (a unit test's bare environ) gets the defaults.
    """
    settings: Optional[Settings] = environ.get(ENVIRON_KEY)
    return settings if settings is not None else _defaults()


@functools.lru_cache(maxsize=1)
def _defaults() -> Settings:
    return Settings()
