#!/bin/sh
# The image's entrypoint: runs `reelforge "$@"` as uid 10001.
#
# Started as root (the image's default user), it first makes the storage folder belong to
# uid 10001 when it belongs to someone else: a new Fly volume or Docker volume is owned by
# root, and the app must write there (SQLite, embedded Valkey, media, scratch). Then it
# drops root for good with setpriv (util-linux, in every Debian image): no supplementary
# groups, no capabilities. Started as any other user (`docker run --user 10001`), it runs
# reelforge directly and changes nothing.
set -eu

APP_UID=10001
APP_GID=10001
data="${VIDEO_STORAGE_PATH:-/data}"

if [ "$(id -u)" = "0" ]; then
  mkdir -p "$data"
  if [ "$(stat -c %u "$data")" != "$APP_UID" ]; then
    echo "reelforge-entrypoint: $data belongs to uid $(stat -c %u "$data"); giving it to uid $APP_UID" >&2
    chown -R "$APP_UID:$APP_GID" "$data"
  fi
  export HOME=/home/reelforge
  exec setpriv --reuid="$APP_UID" --regid="$APP_GID" --clear-groups \
    --inh-caps=-all --bounding-set=-all -- reelforge "$@"
fi
exec reelforge "$@"
