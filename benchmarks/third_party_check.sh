#!/usr/bin/env bash
# Drop-in check: a real project's test suite that uses pytest-httpbin, run
# unchanged twice -- once with pytest-httpbin, once with mockbin installed in
# its place -- and the two sets of failures compared.  Not part of CI (it
# downloads the project's sdist and builds two virtualenvs; ~5 minutes).
#
#   benchmarks/third_party_check.sh                  # requests 2.34.2, this checkout
#   PROJECT_VERSION=2.32.3 benchmarks/third_party_check.sh
#   MOCKBIN_SRC=/path/to/mockbin WORK=/tmp/x benchmarks/third_party_check.sh
#
# The project's code stays in $WORK (under /tmp); nothing of it is committed.
# Exit status: 0 when mockbin adds no failure, 1 otherwise.
set -euo pipefail

MOCKBIN_SRC="${MOCKBIN_SRC:-$(cd "$(dirname "$0")/.." && pwd)}"
PROJECT=requests
PROJECT_VERSION="${PROJECT_VERSION:-2.34.2}"
WORK="${WORK:-$(mktemp -d /tmp/mockbin-third-party.XXXXXX)}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$WORK"
cd "$WORK"

if [ ! -d "$PROJECT-$PROJECT_VERSION" ]; then
    "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: -d . "$PROJECT==$PROJECT_VERSION"
    tar xzf "$PROJECT-$PROJECT_VERSION.tar.gz"
fi
SRC="$WORK/$PROJECT-$PROJECT_VERSION"

# Two requests tests connect to a non-routable private address (their
# "tarpit") to provoke a connect timeout: deselected, this machine sends
# traffic to loopback only.
DESELECT=(-k "not test_connect_timeout and not test_total_timeout_connect")

# requests' own test requirements (its pyproject "test" group), minus pytest-httpbin/httpbin.
COMMON=(pytest pytest-mock trustme "PySocks>=1.5.6,!=1.5.7")

run_suite() {  # $1 = label, rest = what provides the httpbin fixtures
    local label=$1; shift
    local venv="$WORK/venv-$label"
    if [ ! -x "$venv/bin/python" ]; then
        "$PYTHON" -m venv "$venv"
        "$venv/bin/pip" install --quiet -e "$SRC" "${COMMON[@]}" "$@" 2>&1 | grep -v "^WARNING: Location" || true
    fi
    echo "== $label: $("$venv/bin/pip" list 2>/dev/null | grep -iE '^(pytest-httpbin|httpbin|mockbin) ' | tr -s ' ' | paste -sd, -)"
    (cd "$SRC" && "$venv/bin/python" -m pytest tests -p no:cacheprovider -q -rfE -o addopts="" "${DESELECT[@]}" \
        > "$WORK/$label.log" 2>&1) || true
    tail -n 1 "$WORK/$label.log"
    grep -E '^(FAILED|ERROR) ' "$WORK/$label.log" | sed -E 's/ - .*//' | sort -u > "$WORK/$label.failed" || true
}

run_suite pytest-httpbin "pytest-httpbin==2.1.0" "httpbin==0.10.4"
run_suite mockbin "$MOCKBIN_SRC[pytest]"

new=$(comm -13 "$WORK/pytest-httpbin.failed" "$WORK/mockbin.failed")
fixed=$(comm -23 "$WORK/pytest-httpbin.failed" "$WORK/mockbin.failed")
echo "== failing only with mockbin: $(printf '%s' "$new" | grep -c . || true)"
printf '%s\n' "$new" | sed '/^$/d'
echo "== failing only with pytest-httpbin: $(printf '%s' "$fixed" | grep -c . || true)"
printf '%s\n' "$fixed" | sed '/^$/d'
echo "logs: $WORK/pytest-httpbin.log $WORK/mockbin.log"
[ -z "$new" ]
