#!/usr/bin/env bash
# Start Segplatform on this machine: migrate, create the demo consultant, then a Celery
# worker in the background and the web server in the foreground. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

export HTTPS="${HTTPS:-0}"                     # plain http on localhost: no redirect, HSTS
export SECURE_COOKIES="${SECURE_COOKIES:-0}"   # or Secure cookies
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

python manage.py migrate --noinput -v0
demo_line=$(python manage.py demo)

mkdir -p var/log
# --beat: on one machine the worker also keeps the schedule (dispatcher, reaper, audit
# checkpoints, retention purge).
celery -A segplatform worker --pool=solo --without-mingle --without-gossip --loglevel=INFO \
  --beat --schedule var/celerybeat-schedule >var/log/worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM

cat <<MSG

  Segplatform is running at http://$HOST:$PORT/
  $demo_line
  Worker log: var/log/worker.log   (Ctrl-C stops the server and the worker)

MSG
python manage.py runserver "$HOST:$PORT" --noreload
