#!/usr/bin/env bash
# Fleet-mode tests talk to a real PostgreSQL (127.0.0.1:5432, trust auth for user postgres) and a
# real Redis (127.0.0.1:6379), and start private ones from the same binaries (initdb, pg_ctl,
# redis-server) for the fault tests. This checks both servers answer and starts them when they
# don't: with the machine's own commands when present, after installing Debian's packages when
# run as root, otherwise it says what to run and fails.
set -euo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
as_root() { [ "$(id -u)" = "0" ]; }

install_packages() {
  if ! as_root; then
    echo "tollgate tests: PostgreSQL 15 and Redis 7 are needed; run: sudo apt-get install -y postgresql redis-server" >&2
    exit 1
  fi
  echo "== installing $* (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then install_packages postgresql; fi
if ! command -v redis-server >/dev/null; then install_packages redis-server; fi

if ! pg_up; then
  echo "== starting PostgreSQL"
  cluster_version="$(ls /etc/postgresql | sort -V | tail -1)"
  if as_root; then
    pg_ctlcluster --skip-systemctl-redirect "$cluster_version" main start
  else
    pg_ctlcluster "$cluster_version" main start
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 0.5; done
fi
if ! pg_up; then echo "tollgate tests: PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; fi
# Trust auth for postgres over 127.0.0.1 is the machine's default; say so plainly when it isn't.
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
  echo "tollgate tests: cannot connect as postgres@127.0.0.1 without a password; set TOLLGATE_TEST_PG_URL" >&2
  [ -n "${TOLLGATE_TEST_PG_URL:-}" ] || exit 1
fi

if ! redis_up; then
  echo "== starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 0.2; done
fi
if ! redis_up; then echo "tollgate tests: Redis did not start on 127.0.0.1:6379" >&2; exit 1; fi
echo "== PostgreSQL and Redis are up"
