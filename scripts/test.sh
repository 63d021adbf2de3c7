#!/usr/bin/env bash
# Runs every test of the repository (unit, integration, launcher, interop) with `dotnet test`.
# Installs what the tests need when it is missing:
#   - PostgreSQL server binaries (initdb, pg_ctl): the Postgres tests start throwaway clusters;
#   - the Node packages of tests/interop (Dapr's own JavaScript SDK), from the committed lock file.
# Extra arguments go to `dotnet test`, e.g. ./scripts/test.sh --filter "FullyQualifiedName~Launcher".
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { [ "$(id -u)" = 0 ]; }

# Debian's postgresql package puts initdb in /usr/lib/postgresql/<version>/bin, outside PATH.
find_initdb() {
  command -v initdb 2>/dev/null && return 0
  ls -1d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(find_initdb)" ]; then
  if as_root && command -v apt-get >/dev/null; then
    echo "test.sh: installing PostgreSQL server binaries (apt-get install postgresql)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
  else
    echo "test.sh: PostgreSQL's initdb was not found. Install the server binaries (Debian/Ubuntu: sudo apt-get install postgresql) or run this script as root." >&2
    exit 1
  fi
fi
INITDB="$(find_initdb)"
export PATH="$(dirname "$INITDB"):$PATH"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if as_root && command -v apt-get >/dev/null; then
    echo "test.sh: installing Node.js (apt-get install nodejs npm)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
  else
    echo "test.sh: node and npm are needed for the launcher and interop tests. Install Node.js 20 or newer." >&2
    exit 1
  fi
fi

# npm ci is exact but slow; skip it when node_modules already matches the lock file.
if [ ! -f tests/interop/node_modules/.package-lock.json ] \
   || [ tests/interop/package-lock.json -nt tests/interop/node_modules/.package-lock.json ]; then
  echo "test.sh: npm ci in tests/interop"
  (cd tests/interop && npm ci --no-audit --no-fund)
fi

# Debug, like a plain `dotnet build`: `agentverse up` runs the same bin/Debug outputs.
# The projects' outputs interleave and a failure scrolls far up, so the run is also kept in a log
# and whatever failed is repeated at the end.
log="$(mktemp -t agentverse-test.XXXXXX.log)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test AgentVerse.sln --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" != 0 ]; then
  # Details first, then the one-line list, so the end of the output names what failed.
  echo
  echo "test.sh: what failed, in detail:"
  grep -E -A 20 '^\s*Failed [A-Za-z_]|The active test run was aborted' "$log" | cut -c1-300 | head -n 200 || true
  echo
  echo "test.sh: dotnet test failed (exit $status):"
  grep -E '^\s*Failed [A-Za-z_]|error [A-Z]+[0-9]+:|Test Run (Failed|Aborted)|aborted' "$log" | cut -c1-300 | sort -u | head -n 40 || true
fi
exit "$status"
