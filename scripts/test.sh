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
dotnet test AgentVerse.sln --logger "console;verbosity=normal" "$@"
