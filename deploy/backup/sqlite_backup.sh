#!/usr/bin/env bash
# Online backup of Reelforge's SQLite database (the default when DATABASE_URL is unset).
#
#   deploy/backup/sqlite_backup.sh                       # in the container / on the machine
#   docker compose exec api bash /opt/reelforge/backup/sqlite_backup.sh
#   fly ssh console -C "bash /opt/reelforge/backup/sqlite_backup.sh"
#
# The app runs SQLite in WAL mode, so copying the file with cp can capture a torn state.
# This uses SQLite's online backup API (Python's sqlite3, present wherever the app runs),
# which copies a consistent snapshot while the app keeps writing; then it checks the copy's
# integrity, compresses it, and prunes old backups.
#
# Environment:
#   DB_PATH          database file (default $VIDEO_STORAGE_PATH/reelforge.db, or /data/...)
#   BACKUP_DIR       where backups go (default $VIDEO_STORAGE_PATH/backups); copy them
#                    off the machine, a backup on the same volume is no backup
#   BACKUP_RETENTION_DAYS   backups older than this many days are deleted (default 14; 0 keeps all)
# Prints the path of the new backup.
set -euo pipefail

storage="${VIDEO_STORAGE_PATH:-/data}"
db_path="${DB_PATH:-$storage/reelforge.db}"
backup_dir="${BACKUP_DIR:-$storage/backups}"
retention_days="${BACKUP_RETENTION_DAYS:-14}"
python="${PYTHON:-$(command -v python3 || command -v python)}"

if [ ! -f "$db_path" ]; then
  echo "sqlite_backup.sh: no database at $db_path" >&2
  exit 2
fi
if ! [[ "$retention_days" =~ ^[0-9]+$ ]]; then
  echo "sqlite_backup.sh: BACKUP_RETENTION_DAYS must be a whole number of days" >&2
  exit 2
fi

umask 077
mkdir -p "$backup_dir"
target="$backup_dir/reelforge-$(date -u +%Y%m%dT%H%M%SZ).db"
partial="$target.partial"
trap 'rm -f "$partial" "$partial.gz"' EXIT

"$python" - "$db_path" "$partial" <<'PY'
import sqlite3
import sys

source_path, target_path = sys.argv[1], sys.argv[2]
source = sqlite3.connect(source_path, timeout=30)
target = sqlite3.connect(target_path)
try:
    # One step under one read transaction: in WAL mode readers do not block the app's
    # writers, and a stepwise copy would restart each time the app writes.
    source.backup(target)
    # A standalone file: no -wal/-shm companions needed to open the copy.
    target.execute("PRAGMA journal_mode=DELETE")
    result = target.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        sys.exit(f"integrity check of the copy failed: {result}")
finally:
    target.close()
    source.close()
PY

gzip -6 "$partial"
mv "$partial.gz" "$target.gz"

if [ "$retention_days" -gt 0 ]; then
  find "$backup_dir" -maxdepth 1 -type f -name 'reelforge-*.db.gz' \
    -mtime "+$retention_days" -print -delete >&2
fi
echo "$target.gz"
