#!/usr/bin/env bash
# The team topology on one machine, without Docker: one PostgreSQL and one RabbitMQ on loopback (private data
# directories, free ports, generated credentials), several Servers on that one database, and trainer processes.
# docker-compose.yml describes the same topology across machines.
#
#   scripts/team.sh start [--dir DIR] [--servers N] [--trainers N] [--no-build]
#   scripts/team.sh stop  [--dir DIR]          stops everything it started
#   scripts/team.sh status [--dir DIR]         what runs, and where
#   scripts/team.sh kill NAME [--dir DIR]      kill -9 one member (server-1, trainer-2, broker, database)
#   scripts/team.sh term NAME [--dir DIR]      SIGTERM one member and wait for it
#   scripts/team.sh up NAME [--dir DIR]        (re)start one member
#   scripts/team.sh queues [--dir DIR]         the broker's queues and the messages in each
#
# DIR (default /tmp/scalingledger-team) holds team.env (addresses, the connection strings, the first admin's token), the
# ledger's signing key, the data directories, each member's log (NAME.log) and pid (NAME.pid); it must be this user's own,
# and everything in it is written readable by this user alone. The Servers run with access control on: the API takes
# tokens (ADMIN_TOKEN in team.env is the first admin's) and the site asks to sign in. Settings in the environment of `start`
# or `up` (Ledger__*, Trainer__*) reach the members: e.g. Trainer__Replay=FILE makes the trainers replay a recording.
set -euo pipefail
# Secrets (the broker's password, the admin token, the signing key) are never readable by anyone else, not even for a moment.
umask 077
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/setup.sh"

cmd=${1:-}; shift || true
DIR=/tmp/scalingledger-team; SERVERS=2; TRAINERS=2; BUILD=1; NAME=
while [ $# -gt 0 ]; do
  case $1 in
    --dir) DIR=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --trainers) TRAINERS=$2; shift 2 ;;
    --no-build) BUILD=; shift ;;
    -*) die "unknown option $1" ;;
    *) NAME=$1; shift ;;
  esac
done
CONFIG=${CONFIGURATION:-Debug}
# Another build's Server and trainer may be named (a benchmark of the code before a change, side by side).
SERVER_DLL=${LEDGER_SERVER_DLL:-$ROOT/src/Server/bin/$CONFIG/net10.0/ScalingLedger.Server.dll}
TRAINER_DLL=${LEDGER_TRAINER_DLL:-$ROOT/src/Trainer/bin/$CONFIG/net10.0/ScalingLedger.Trainer.dll}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
pid_of() { [ -f "$DIR/$1.pid" ] && cat "$DIR/$1.pid" || true; }
alive() { local p; p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# The broker runs as Debian's rabbitmq user with its own HOME (its Erlang cookie), mnesia and logs, bound to loopback;
# its epmd on a port of its own, so that it never meets another broker on this machine.
rabbit() { # COMMAND...: as the rabbitmq user (when root), in the broker's environment
  local run=(); [ "$(id -u)" -eq 0 ] && run=(runuser -u rabbitmq --)
  "${run[@]}" env HOME="$DIR/rabbitmq" RABBITMQ_CONFIG_FILE="$DIR/rabbitmq/rabbitmq" RABBITMQ_MNESIA_BASE="$DIR/rabbitmq/mnesia" \
    RABBITMQ_LOG_BASE="$DIR/rabbitmq/log" RABBITMQ_NODENAME="$RABBIT_NODE" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$RABBIT_PORT" RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$RABBIT_EPMD_PORT" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_PID_FILE="$DIR/rabbitmq/pid" "$@"
}

# DIR must be this user's, writable by no one else: team.env in it is sourced, and its files hold the team's secrets.
own_dir() {
  [ -L "$DIR" ] && die "$DIR is a symbolic link: give the team a directory of its own (--dir)"
  [ -d "$DIR" ] || return 0
  [ "$(stat -c %u "$DIR")" = "$(id -u)" ] || die "$DIR belongs to another user ($(stat -c %U "$DIR")): give the team a directory of its own (--dir)"
  case $(stat -c %A "$DIR") in
    ?????w????|????????w?) die "$DIR can be written by other users ($(stat -c %A "$DIR")): give the team a directory of its own (--dir)" ;;
  esac
}

load_env() {
  own_dir
  [ -f "$DIR/team.env" ] || die "no team in $DIR (start one with: scripts/team.sh start --dir $DIR)"
  [ "$(stat -c %u "$DIR/team.env")" = "$(id -u)" ] || die "$DIR/team.env belongs to another user: it is not sourced"
  # shellcheck disable=SC1091
  . "$DIR/team.env"
}

start_database() {
  say "PostgreSQL (data in $DIR/postgres)"
  LEDGER_DB=$(dotnet "$SERVER_DLL" database start "$DIR/postgres" 2>>"$DIR/database.log") \
    || die "PostgreSQL did not start: $(tail -3 "$DIR/database.log")"
  head -1 "$DIR/postgres/postmaster.pid" >"$DIR/database.pid"
}

start_broker() {
  say "RabbitMQ on 127.0.0.1:$RABBIT_PORT"
  mkdir -p "$DIR/rabbitmq/mnesia" "$DIR/rabbitmq/log"
  cat >"$DIR/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$RABBIT_PORT
default_user = ledger
default_pass = $RABBIT_PASSWORD
loopback_users = none
# Trainers hold a command only while it starts (see docs/operations.md): no trial is near this limit.
consumer_timeout = 1800000
EOF
  [ -f "$DIR/rabbitmq/.erlang.cookie" ] || openssl rand -hex 20 >"$DIR/rabbitmq/.erlang.cookie"
  chmod 600 "$DIR/rabbitmq/.erlang.cookie" "$DIR/rabbitmq/rabbitmq.conf"
  [ "$(id -u)" -eq 0 ] && chown -R rabbitmq:rabbitmq "$DIR/rabbitmq"
  rabbit setsid /usr/lib/rabbitmq/bin/rabbitmq-server >>"$DIR/broker.log" 2>&1 &
  for _ in $(seq 1 60); do
    [ -s "$DIR/rabbitmq/pid" ] && break
    sleep 0.5
  done
  rabbit /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBIT_NODE" wait --timeout 60 "$DIR/rabbitmq/pid" >/dev/null 2>&1 \
    || die "RabbitMQ did not start: $(tail -5 "$DIR/broker.log")"
  for _ in $(seq 1 60); do (exec 3<>"/dev/tcp/127.0.0.1/$RABBIT_PORT") 2>/dev/null && break; sleep 0.5; done
  cp "$DIR/rabbitmq/pid" "$DIR/broker.pid"
}

start_member() { # NAME
  local name=$1 port
  case $name in
    server-*)
      port=$(grep "^SERVER_${name#server-}_PORT=" "$DIR/team.env" | cut -d= -f2 || true)
      [ -n "$port" ] || { port=$(free_port); echo "SERVER_${name#server-}_PORT=$port" >>"$DIR/team.env"; }
      ConnectionStrings__Ledger=$LEDGER_DB ConnectionStrings__RabbitMq=$RABBIT_URL Ledger__EmbeddedTrainer=false \
        Ledger__AccessControl=true Ledger__AdminToken=$ADMIN_TOKEN Ledger__SigningKeyFile="$DIR/signing-key.pem" \
        setsid dotnet "$SERVER_DLL" --urls "http://127.0.0.1:$port" >>"$DIR/$name.log" 2>&1 &
      echo $! >"$DIR/$name.pid"
      for _ in $(seq 1 120); do
        curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
        alive "$name" || die "$name exited during start: $(tail -5 "$DIR/$name.log")"
        sleep 0.5
      done
      die "$name did not answer /health within 60 s: $(tail -5 "$DIR/$name.log")" ;;
    trainer-*)
      ConnectionStrings__RabbitMq=$RABBIT_URL setsid dotnet "$TRAINER_DLL" >>"$DIR/$name.log" 2>&1 &
      echo $! >"$DIR/$name.pid" ;;
    broker) start_broker ;;
    database) start_database; sed -i "s|^LEDGER_DB=.*|LEDGER_DB='$LEDGER_DB'|" "$DIR/team.env" ;;
    *) die "no member $name (server-N, trainer-N, broker, database)" ;;
  esac
}

stop_pid() { # NAME SIGNAL
  local p; p=$(pid_of "$1")
  [ -n "$p" ] || return 0
  kill "-$2" "$p" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then echo "$1 did not stop within 20 s: killed" >&2; kill -9 "$p" 2>/dev/null || true; fi
  rm -f "$DIR/$1.pid"
}

stop_broker() {
  alive broker || return 0
  rabbit /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBIT_NODE" stop >/dev/null 2>&1 || stop_pid broker KILL
  rm -f "$DIR/broker.pid"
  # epmd outlives the broker: stop the one on this team's port.
  rabbit "$(ls /usr/lib/erlang/erts-*/bin/epmd | head -1)" -kill >/dev/null 2>&1 || true
}

case $cmd in
  start)
    ensure_packages "the team's broker" rabbitmq-server
    ensure_packages "waiting for the Servers" curl
    ensure_packages "generating the broker's secrets" openssl
    own_dir
    [ -f "$DIR/team.env" ] && die "a team is already in $DIR (scripts/team.sh stop --dir $DIR first)"
    mkdir -p "$DIR"
    chmod 711 "$DIR"
    # The ledger signs the studies it exports; the team's Servers share this key (keep a copy with the backups).
    [ -f "$DIR/signing-key.pem" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/signing-key.pem" 2>/dev/null \
      || die "openssl could not make the ledger's signing key"
    if [ -n "$BUILD" ]; then say "Building"; dotnet build "$ROOT/ScalingLedger.sln" -c "$CONFIG" -nologo -v q -clp:ErrorsOnly || die "the build failed"; fi
    RABBIT_PORT=$(free_port); RABBIT_DIST_PORT=$(free_port); RABBIT_EPMD_PORT=$(free_port)
    RABBIT_NODE="ledger-$RABBIT_PORT@localhost"; RABBIT_PASSWORD=$(openssl rand -hex 16)
    RABBIT_URL="amqp://ledger:$RABBIT_PASSWORD@127.0.0.1:$RABBIT_PORT/"
    ADMIN_TOKEN=$(openssl rand -hex 32)
    start_database
    cat >"$DIR/team.env" <<EOF
RABBIT_PORT=$RABBIT_PORT
RABBIT_DIST_PORT=$RABBIT_DIST_PORT
RABBIT_EPMD_PORT=$RABBIT_EPMD_PORT
RABBIT_NODE=$RABBIT_NODE
RABBIT_PASSWORD=$RABBIT_PASSWORD
RABBIT_URL='$RABBIT_URL'
LEDGER_DB='$LEDGER_DB'
ADMIN_TOKEN=$ADMIN_TOKEN
SERVERS=$SERVERS
TRAINERS=$TRAINERS
EOF
    start_broker
    for i in $(seq 1 "$SERVERS"); do say "server-$i"; start_member "server-$i"; done
    for i in $(seq 1 "$TRAINERS"); do start_member "trainer-$i"; done
    say "The team runs: $(for i in $(seq 1 "$SERVERS"); do printf 'http://127.0.0.1:%s ' "$(grep "^SERVER_${i}_PORT=" "$DIR/team.env" | cut -d= -f2)"; done)($TRAINERS trainers; scripts/team.sh stop --dir $DIR)"
    say "Access control is on: the first admin's token is ADMIN_TOKEN in $DIR/team.env (ledger --token, or sign in on the site)" ;;
  stop)
    own_dir
    [ -f "$DIR/team.env" ] || exit 0
    load_env
    for f in "$DIR"/trainer-*.pid "$DIR"/server-*.pid; do [ -f "$f" ] && stop_pid "$(basename "$f" .pid)" TERM; done
    stop_broker
    dotnet "$SERVER_DLL" database stop "$DIR/postgres" 2>>"$DIR/database.log" || true
    rm -f "$DIR/database.pid" "$DIR/team.env" ;;
  status)
    load_env
    for f in "$DIR"/*.pid; do n=$(basename "$f" .pid); if alive "$n"; then echo "$n running (pid $(pid_of "$n"))"; else echo "$n stopped"; fi; done ;;
  kill) load_env; [ -n "$NAME" ] || die "kill what?"; p=$(pid_of "$NAME"); [ -n "$p" ] || die "$NAME is not running"
    kill -9 "$p"; rm -f "$DIR/$NAME.pid" ;;
  term) load_env; [ -n "$NAME" ] || die "term what?"
    case $NAME in
      broker) stop_broker ;;
      database) dotnet "$SERVER_DLL" database stop "$DIR/postgres" 2>>"$DIR/database.log"; rm -f "$DIR/database.pid" ;;
      *) stop_pid "$NAME" TERM ;;
    esac ;;
  queues) load_env; rabbit /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBIT_NODE" -q list_queues name messages ;;
  up) load_env; [ -n "$NAME" ] || die "up what?"; alive "$NAME" && die "$NAME runs already"; start_member "$NAME" ;;
  *) sed -n '2,17p' "$0"; exit 2 ;;
esac
