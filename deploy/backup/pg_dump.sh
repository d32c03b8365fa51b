#!/usr/bin/env bash
# Dump Reelforge's PostgreSQL database (custom format) and prune old dumps.
#
#   DATABASE_URL=postgresql://user:pass@host:5432/reelforge deploy/backup/pg_dump.sh
#
# Environment:
#   DATABASE_URL     the app's URL; postgres://, postgresql:// and postgresql+asyncpg:// work
#   BACKUP_DIR       where dumps go (default ./backups)
#   BACKUP_RETENTION_DAYS   dumps older than this many days are deleted (default 14; 0 keeps all)
# Prints the path of the new dump. Needs pg_dump and pg_restore (PostgreSQL client tools of
# the server's major version or newer), e.g. inside the postgres container.
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to dump}"
backup_dir="${BACKUP_DIR:-./backups}"
retention_days="${BACKUP_RETENTION_DAYS:-14}"

# libpq does not know SQLAlchemy's driver suffix.
url="${DATABASE_URL/postgresql+asyncpg:\/\//postgresql://}"
case "$url" in
  postgres://* | postgresql://*) ;;
  *) echo "pg_dump.sh: DATABASE_URL is not a PostgreSQL URL" >&2; exit 2 ;;
esac
if ! [[ "$retention_days" =~ ^[0-9]+$ ]]; then
  echo "pg_dump.sh: BACKUP_RETENTION_DAYS must be a whole number of days" >&2
  exit 2
fi

umask 077  # dumps hold client data
mkdir -p "$backup_dir"
target="$backup_dir/reelforge-$(date -u +%Y%m%dT%H%M%SZ).dump"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

pg_dump --format=custom --compress=6 --no-owner --no-privileges \
  --dbname="$url" --file="$partial"
# A dump that cannot be listed cannot be restored: fail now, not on the day it is needed.
pg_restore --list "$partial" > /dev/null
mv "$partial" "$target"

if [ "$retention_days" -gt 0 ]; then
  find "$backup_dir" -maxdepth 1 -type f -name 'reelforge-*.dump' \
    -mtime "+$retention_days" -print -delete >&2
fi
echo "$target"
