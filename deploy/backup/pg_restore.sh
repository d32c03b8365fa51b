#!/usr/bin/env bash
# Restore a dump made by pg_dump.sh into Reelforge's PostgreSQL database.
#
#   CONFIRM=yes DATABASE_URL=postgresql://user:pass@host:5432/reelforge \
#     deploy/backup/pg_restore.sh backups/reelforge-20250101T000000Z.dump
#
# Stop the API and the workers first (docker compose stop api worker): the restore drops
# and recreates every object of the dump in one transaction, and it fails as a whole or
# succeeds as a whole. Without CONFIRM=yes it only checks the dump and says what it would do.
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: CONFIRM=yes DATABASE_URL=... $0 <dump-file>" >&2
  exit 2
fi
dump="$1"
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to restore into}"
url="${DATABASE_URL/postgresql+asyncpg:\/\//postgresql://}"
case "$url" in
  postgres://* | postgresql://*) ;;
  *) echo "pg_restore.sh: DATABASE_URL is not a PostgreSQL URL" >&2; exit 2 ;;
esac
if [ ! -r "$dump" ]; then
  echo "pg_restore.sh: cannot read $dump" >&2
  exit 2
fi

# Refuse a damaged or non-custom-format file before touching the database.
if ! listing="$(pg_restore --list "$dump")"; then
  echo "pg_restore.sh: $dump is not a readable pg_dump custom-format archive" >&2
  exit 2
fi
entries="$(grep -c -v '^;' <<< "$listing" || true)"
host="${url#*@}"
host="${host%%/*}"
echo "dump $dump: $entries entries; target database on $host" >&2

if [ "${CONFIRM:-}" != "yes" ]; then
  echo "dry run: set CONFIRM=yes to replace the database's contents with this dump" >&2
  exit 3
fi

pg_restore --clean --if-exists --no-owner --no-privileges \
  --single-transaction --exit-on-error \
  --dbname="$url" "$dump"
echo "restored $dump; run 'reelforge migrate' if the dump predates the current release" >&2
