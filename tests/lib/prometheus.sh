# Prometheus and Alertmanager for tests: Debian's `prometheus` and `prometheus-alertmanager`
# (installed by scripts/setup) on 127.0.0.1, each in a fresh temp folder with its own
# configuration and storage, scraping and evaluating every second. Source this file, then:
#
#   prometheus_start [--rules FILE]... [--alertmanager URL] [TARGET...]
#                            # TARGET: host:port of a /metrics endpoint to scrape (job "forja")
#   ... query $PROM_URL (http://127.0.0.1:PORT), e.g. `promtool query instant "$PROM_URL" 'up'` ...
#   prometheus_stop
#
#   prometheus_wait_for QUERY [SECONDS]   # until QUERY has a result (default 10 s); 1 if never
#
#   alertmanager_start WEBHOOK_URL   # every alert goes to this webhook, at once
#   ... $AM_URL ...
#   alertmanager_stop
#
# prometheus_start exports PROM_URL, PROM_PORT, PROM_PID, PROM_DIR, PROM_LOG;
# alertmanager_start exports AM_URL, AM_PORT, AM_PID, AM_DIR, AM_LOG. Each returns non-zero,
# with the reason and the server's log on stderr, when its server does not come up.
# Ports: the kernel picks a free one, which the server then binds (tried again if another
# process took it in between). The servers die with their owner: PROM_OWNER_PID if set, else
# the sourcing shell, so a test killed by a timeout leaves no server behind.

_prom_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts a server in the background and waits until it answers GET $3 on the port it was
# given; sets _PID and _PORT. $1 = a name for messages, $2 = its log file, $3 = the ready
# path, $4 = a function that sets _CMD, the command line, for the port $1.
_prom_launch() {
  local name=$1 log=$2 ready=$3 cmdline=$4 try i port
  for ((try = 0; try < 5; try++)); do
    port=$(_prom_free_port) || return 1
    "$cmdline" "$port"
    "${_CMD[@]}" >"$log" 2>&1 </dev/null &
    _PID=$!
    for ((i = 0; i < 300; i++)); do
      if curl -sf -o /dev/null "http://127.0.0.1:$port$ready"; then
        _PORT=$port
        nohup bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill "$2" 2>/dev/null' \
          "$name-watchdog" "${PROM_OWNER_PID:-$$}" "$_PID" >/dev/null 2>&1 </dev/null &
        disown $! 2>/dev/null || true
        return 0
      fi
      kill -0 "$_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill "$_PID" 2>/dev/null
    wait "$_PID" 2>/dev/null
    grep -q "address already in use" "$log" || break  # only a lost port race is worth a retry
  done
  echo "$name: did not come up; its log:" >&2
  cat "$log" >&2
  return 1
}

# Stops the server PID ($1) and removes its folder ($2, when it is one of ours: $3 in its name).
_prom_stop() {
  local pid=$1 dir=$2 mark=$3 i
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  fi
  if [[ -n $dir && $dir == */$mark.* ]]; then rm -rf "$dir"; fi
  return 0
}

_prometheus_cmdline() {
  _CMD=(prometheus "--config.file=$PROM_DIR/prometheus.yml" "--storage.tsdb.path=$PROM_DIR/data"
    "--web.listen-address=127.0.0.1:$1" --log.level=warn)
}

prometheus_start() {
  local rules=() am="" targets=() r t
  while (($#)); do
    case $1 in
      --rules) rules+=("$(realpath "$2")"); shift 2 ;;
      --alertmanager) am=$2; shift 2 ;;
      *) targets+=("$1"); shift ;;
    esac
  done
  if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    echo "prometheus_start: prometheus and promtool are not installed; run scripts/setup" >&2
    return 1
  fi
  PROM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/forja-prometheus.XXXXXX") || return 1
  PROM_LOG=$PROM_DIR/prometheus.log
  {
    echo "global: {scrape_interval: 1s, evaluation_interval: 1s}"
    if ((${#rules[@]})); then
      echo "rule_files:"
      for r in "${rules[@]}"; do echo "  - '$r'"; done
    fi
    if [[ -n $am ]]; then
      echo "alerting: {alertmanagers: [{static_configs: [{targets: ['${am#http://}']}]}]}"
    fi
    echo "scrape_configs:"
    echo "  - job_name: forja"
    echo "    static_configs:"
    echo "      - targets: [$(
      sep=""
      for t in "${targets[@]+"${targets[@]}"}"; do printf "%s'%s'" "$sep" "$t"; sep=", "; done
    )]"
  } >"$PROM_DIR/prometheus.yml"
  _prom_launch prometheus "$PROM_LOG" /-/ready _prometheus_cmdline || { rm -rf "$PROM_DIR"; return 1; }
  export PROM_PID=$_PID PROM_PORT=$_PORT PROM_URL=http://127.0.0.1:$_PORT PROM_DIR PROM_LOG
}

prometheus_stop() {
  _prom_stop "${PROM_PID:-}" "${PROM_DIR:-}" forja-prometheus
  unset PROM_PID PROM_PORT PROM_URL PROM_DIR PROM_LOG
  return 0
}

prometheus_wait_for() {
  local query=$1 seconds=${2:-10} i
  for ((i = 0; i < seconds * 10; i++)); do
    [[ -n $(promtool query instant "$PROM_URL" "$query" 2>/dev/null) ]] && return 0
    sleep 0.1
  done
  return 1
}

_alertmanager_cmdline() {
  # No cluster: a lone Alertmanager on loopback, gossiping with nobody.
  _CMD=(prometheus-alertmanager "--config.file=$AM_DIR/alertmanager.yml" "--storage.path=$AM_DIR/data"
    "--web.listen-address=127.0.0.1:$1" --cluster.listen-address= --log.level=warn)
}

alertmanager_start() {
  local webhook=$1
  if ! command -v prometheus-alertmanager >/dev/null; then
    echo "alertmanager_start: prometheus-alertmanager is not installed; run scripts/setup" >&2
    return 1
  fi
  AM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/forja-alertmanager.XXXXXX") || return 1
  AM_LOG=$AM_DIR/alertmanager.log
  cat >"$AM_DIR/alertmanager.yml" <<YAML
route:
  receiver: forja
  group_by: ['alertname', 'model', 'version']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: forja
    webhook_configs:
      - url: '$webhook'
        send_resolved: true
YAML
  _prom_launch alertmanager "$AM_LOG" /-/ready _alertmanager_cmdline || { rm -rf "$AM_DIR"; return 1; }
  export AM_PID=$_PID AM_PORT=$_PORT AM_URL=http://127.0.0.1:$_PORT AM_DIR AM_LOG
}

alertmanager_stop() {
  _prom_stop "${AM_PID:-}" "${AM_DIR:-}" forja-alertmanager
  unset AM_PID AM_PORT AM_URL AM_DIR AM_LOG
  return 0
}
