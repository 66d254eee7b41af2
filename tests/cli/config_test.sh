#!/usr/bin/env bash
# forja config show / groups / explain, driven as a user would: outputs, the
# config folder from forja.yaml, sweeps with -m, and one clear error line for
# each kind of bad input.
source "$(dirname "$0")/../lib/common.sh"

json_check() {  # json_check PYTHON-EXPR-ON-d "$OUT"
  python3 -c "import json,sys; d=json.load(sys.stdin); assert $1, d" <<<"$2" && pass || fail "JSON check '$1' failed on: $2"
}

# --- a config tree outside any workspace: ./conf is the default ---------------
mkdir -p "$TEST_TMP/plain" && cd "$TEST_TMP/plain" || exit 1
mkdir -p conf/db conf/server conf/experiment
cat >conf/config.yaml <<'EOF'
defaults:
  - db: mysql
  - server: apache
  - _self_

app:
  name: demo
  workers: 4
  tags: [a, b]
url: ${db.host}:${db.port}
EOF
printf 'host: mysql.local\nport: 3306\n' >conf/db/mysql.yaml
printf 'host: pg.local\nport: 5432\n' >conf/db/postgresql.yaml
printf 'name: apache\n' >conf/server/apache.yaml
printf 'name: nginx\nworkers: ${app.workers}\n' >conf/server/nginx.yaml
cat >conf/experiment/fast.yaml <<'EOF'
# @package _global_
defaults:
  - override /db: postgresql

app:
  workers: 32
EOF

expect_ok forja config show
expect_eq "$OUT" "$(printf 'db:\n  host: mysql.local\n  port: 3306\nserver:\n  name: apache\napp:\n  name: demo\n  workers: 4\n  tags:\n  - a\n  - b\nurl: mysql.local:3306')"

expect_ok forja config show db=postgresql app.workers=8 +app.debug=true
expect_contains "$OUT" "url: pg.local:5432"
expect_contains "$OUT" "  workers: 8"
expect_contains "$OUT" "  debug: true"

run forja config show --json server=nginx
expect_eq "$RC" "0"
json_check 'list(d) == ["db", "server", "app", "url"] and d["server"] == {"name": "nginx", "workers": 4}' "$OUT"

expect_ok forja config show --no-resolve
expect_contains "$OUT" 'url: ${db.host}:${db.port}'

expect_ok forja config show --package db
expect_eq "$OUT" "$(printf '# @package db\nhost: mysql.local\nport: 3306')"
expect_ok forja config show -p db.port
expect_eq "$OUT" "3306"
expect_ok forja config show -p db --json
json_check 'd == {"host": "mysql.local", "port": 3306}' "$OUT"

# An experiment config that overrides a group choice, added from the command line.
expect_ok forja config show +experiment=fast
expect_contains "$OUT" "host: pg.local"
expect_contains "$OUT" "  workers: 32"

# --- sweeps --------------------------------------------------------------------
expect_ok forja config show -m db=mysql,postgresql app.workers=range\(1,3\)
expect_eq "$OUT" "$(printf 'db=mysql app.workers=1\ndb=mysql app.workers=2\ndb=postgresql app.workers=1\ndb=postgresql app.workers=2')"
run forja config show -m 'db=glob(*)' server=nginx --json
expect_eq "$RC" "0"
json_check 'd == [["db=mysql", "server=nginx"], ["db=postgresql", "server=nginx"]]' "$OUT"
expect_ok forja config show -m app.workers=4
expect_eq "$OUT" "app.workers=4"

# --- groups --------------------------------------------------------------------
expect_ok forja config groups
expect_eq "$OUT" "$(printf 'db: mysql, postgresql  [db=mysql]\nexperiment: fast\nserver: apache, nginx  [server=apache]')"
run forja config groups --json
json_check 'd[0] == {"group": "db", "options": ["mysql", "postgresql"], "chosen": {"db": "mysql"}} and len(d) == 3' "$OUT"

# --- explain -------------------------------------------------------------------
expect_ok forja config explain db.port
expect_contains "$OUT" "db.port: 3306"
expect_contains "$OUT" "final value set at conf/db/mysql.yaml:2"
expect_ok forja config explain app.workers +experiment=fast app.workers=64
expect_contains "$OUT" "app.workers: 64"
expect_contains "$OUT" "conf/config.yaml:8"
expect_contains "$OUT" "conf/experiment/fast.yaml:6"
expect_contains "$OUT" "override 'app.workers=64'"
run forja config explain url --json
json_check 'd["value"] == "mysql.local:3306" and d["unresolved"] == "${db.host}:${db.port}" and d["origin"] == "conf/config.yaml:10"' "$OUT"
expect_fail 1 forja config explain nope.key
expect_contains "$OUT" "'nope.key' is not in the composed config"
expect_one_error_line "$OUT"

# --- --config-dir / --config-name -------------------------------------------------
mkdir -p "$TEST_TMP/elsewhere/settings"
printf 'x: 1\n' >"$TEST_TMP/elsewhere/settings/main.yaml"
expect_ok forja config show --config-dir "$TEST_TMP/elsewhere/settings" --config-name main
expect_eq "$OUT" "x: 1"

# --- inside a workspace: config.root and config.name from forja.yaml -------------
new_repo ws
mkdir -p settings/model sub/dir
printf 'defaults:\n  - model: small\n  - _self_\nseed: 1\n' >settings/main.yaml
printf 'layers: 2\n' >settings/model/small.yaml
printf 'layers: 12\n' >settings/model/large.yaml
printf '\nconfig:\n  root: settings\n  name: main\n' >>forja.yaml
expect_ok forja status  # the data commands accept the config section
expect_ok forja config show model=large
expect_eq "$OUT" "$(printf 'model:\n  layers: 12\nseed: 1')"
cd sub/dir && expect_ok forja config show && cd ../..
expect_contains "$OUT" "layers: 2"
expect_ok forja -C sub config groups
expect_eq "$OUT" "model: large, small  [model=small]"
printf 'config:\n  root: [x]\n' >forja.yaml
expect_fail 1 forja config show
expect_contains "$OUT" "forja.yaml:2: config.root must be a non-empty string"
expect_one_error_line "$OUT"

# --- bad input: one error line, exit 1 ---------------------------------------------
cd "$TEST_TMP/plain" || exit 1
bad() {  # bad "expected text" forja args...
  local want=$1
  shift
  expect_fail 1 forja "$@"
  expect_contains "$OUT" "$want"
  expect_one_error_line "$OUT"
  [[ $(wc -l <<<"$OUT") -eq 1 ]] && pass || fail "expected exactly one line of output from: $*"$'\n'"$OUT"
}
bad "override 'db=oracle': Could not find 'db/oracle'; available options in 'db': mysql, postgresql" config show db=oracle
bad "override 'nosuch=x': Could not override 'nosuch': the key is not in the config; to add it use +nosuch=x" config show nosuch=x
bad "Could not override 'app.nokey': the key is not in the config; to add it use +app.nokey=1" config show app.nokey=1
bad "Could not append to config: an item is already at 'app.workers'" config show +app.workers=1
bad "Could not delete 'app.nokey': the key is not in the config" config show '~app.nokey'
bad "Could not delete 'app.workers': its value is 4, not 5" config show '~app.workers=5'
bad "cannot merge a dict into a list at 'app.tags'" config show 'app.tags={a: 1}'
bad "conf/config.yaml:2: Multiple values for db: mysql here and postgresql from override '+db=postgresql'" config show +db=postgresql
bad "ambiguous value" config show app.workers=1,2
bad "a sweep requires -m" config show 'app.workers=range(1,3)'
bad "override '~db=sqlite': Could not delete 'db=sqlite': no match in the defaults list" config show '~db=sqlite'
bad "override 'hydra.launcher.n_jobs=2': forja does not implement 'hydra.launcher.n_jobs'; the hydra settings it honours are hydra.run.dir" config show hydra.launcher.n_jobs=2
expect_ok forja config show --hydra -p hydra.run hydra.run.dir=x  # docs/hydra-compat.md
expect_eq "$OUT" "$(printf '# @package hydra.run\ndir: x')"
bad "override 'db=[': column" config show 'db=['
bad "override 'db=oracle': Could not find 'db/oracle'" config show -m db=mysql,oracle
expect_ok forja config show -m db=mysql,oracle --no-check
expect_eq "$OUT" "$(printf 'db=mysql\ndb=oracle')"
bad "conf/nosuch.yaml: Cannot find primary config 'nosuch'" config show --config-name nosuch
bad "nowhere: the config folder does not exist" config show --config-dir nowhere

errors="$FORJA_SOURCE/tests/config/compose/errors/conf"
bad "broken.yaml:4:2: malformed YAML" config show --config-dir "$errors" --config-name broken
bad "unknown_option.yaml:2: Could not find 'db/oracle'; available options in 'db': mysql, postgresql" config show --config-dir "$errors" --config-name unknown_option
bad "there is no config group 'nosuch'" config show --config-dir "$errors" --config-name unknown_group
bad "multiple_values.yaml:2: Multiple values for db" config show --config-dir "$errors" --config-name multiple_values
bad "db appears more than once in the final defaults list" config show --config-dir "$errors" --config-name duplicate
bad "cycle in the defaults lists: loop/a -> loop/b -> loop/a" config show --config-dir "$errors" --config-name cycle
bad "icycle.yaml:1: interpolation cycle: a -> b -> c -> a" config show --config-dir "$errors" --config-name icycle
bad "cannot merge a dict into a list at 'tm.x'" config show --config-dir "$errors" --config-name mismatch
bad "You must specify 'db', e.g. db=<OPTION>; available options: mysql, postgresql" config show --config-dir "$errors" --config-name mandatory

# A missing mandatory value is only an error when it is read.
printf 'a: ???\nb: ${a}\n' >conf/missing.yaml
expect_ok forja config show --config-name missing
bad "missing mandatory value" config explain b --config-name missing

# --- usage errors: exit 2; help --------------------------------------------------------
expect_fail 2 forja config show --bogus
expect_one_error_line "$OUT"
expect_fail 2 forja config
expect_fail 2 forja config explain
for sub in show groups explain; do
  expect_ok forja config "$sub" --help
  expect_contains "$OUT" "--config-dir"
done
expect_ok forja config show --help
expect_contains "$OUT" "--no-resolve"
expect_contains "$OUT" "-m,--multirun"
expect_not_contains "$OUT" "--repeat"
expect_ok forja config --help
expect_contains "$OUT" "explain"

finish
