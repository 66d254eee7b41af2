#!/usr/bin/env bash
# Hydra's runtime in a pipeline (docs/hydra-compat.md, "In forja run" and
# "forja exp run"): ${hydra:...} in a stage's cmd and env is the run's output
# folder, which does not make the stage out of date; in outs it is refused;
# forja exp run puts each job's output folder in the main workspace, a sweep
# (-m) as Hydra's multirun: sweep.dir/<job.num>, mode MULTIRUN.
source "$(dirname "$0")/../lib/common.sh"

new_repo
mkdir -p conf
printf 'lr: 0.1\n' >conf/config.yaml
printf 'outputs/\nmultirun/\nruns/\nexp_out/\n' >>.gitignore
cat >>forja.yaml <<'YAML'
stages:
  train:
    cmd: mkdir -p ${hydra:runtime.output_dir}/ckpt && echo ${lr} > ${hydra:runtime.output_dir}/ckpt/lr.txt && echo ${lr} > model.txt && printenv OUT > env.txt
    env: {OUT: "${hydra:runtime.output_dir}"}
    params: [lr]
    outs: [model.txt]
YAML

# cmd and env get the run's output folder, the one forja run made.
expect_ok forja run
dirs=(outputs/*/*)
expect_eq "${#dirs[@]}" 1
out=$PWD/${dirs[0]}
expect_eq "$(cat "$out/ckpt/lr.txt")" 0.1
expect_eq "$(cat env.txt)" "$out"
[[ -f $out/.hydra/config.yaml ]] && pass || fail "no .hydra record in $out"
# forja.lock keeps the command as written: a new output folder is no change.
expect_contains "$(cat forja.lock)" 'echo 0.1 > ${hydra:runtime.output_dir}/ckpt/lr.txt'
expect_ok forja run hydra.run.dir=runs/again
expect_not_contains "$OUT" "Running stage"
[[ ! -e runs/again ]] && pass || fail "a run with nothing to do made its output folder"
expect_ok forja run --dry
expect_not_contains "$OUT" "command changed"
# The variables forja exp run gives its jobs, when set by hand to nonsense: one line.
FORJA_HYDRA_JOB_NUM=abc expect_fail 1 forja run
expect_one_error_line "$OUT"
expect_contains "$OUT" "FORJA_HYDRA_JOB_NUM must be a job number (0, 1, ...), not \"abc\""
FORJA_HYDRA_OUTPUT_BASE=rel expect_fail 1 forja run
expect_contains "$OUT" "FORJA_HYDRA_OUTPUT_BASE must be an absolute folder"
# A changed param reruns it, into that run's folder.
expect_ok forja run lr=0.2 hydra.run.dir=runs/two
expect_contains "$OUT" "Running stage 'train'"
expect_eq "$(cat runs/two/ckpt/lr.txt)" 0.2
expect_eq "$(cat env.txt)" "$PWD/runs/two"

# forja exp run: the output folders land in the main workspace and stay.
git add .gitignore forja.yaml conf forja.lock && git commit -qm base
expect_ok forja exp run lr=0.5 hydra.run.dir=exp_out
expect_contains "$OUT" "1 of 1 experiments succeeded"
expect_eq "$(cat exp_out/ckpt/lr.txt 2>&1)" 0.5
expect_contains "$(cat exp_out/.hydra/hydra.yaml 2>&1)" "mode: RUN"
expect_ok forja exp run lr=0.55
expect_contains "$(cat outputs/*/*/ckpt/lr.txt)" 0.55
expect_ok forja exp run -m lr=0.3,0.4
expect_contains "$OUT" "2 of 2 experiments succeeded"
sweeps=(multirun/*/*)
expect_eq "${#sweeps[@]}" 1  # one sweep folder for all jobs
expect_eq "$(cat "${sweeps[0]}/0/ckpt/lr.txt" 2>&1)" 0.3
expect_eq "$(cat "${sweeps[0]}/1/ckpt/lr.txt" 2>&1)" 0.4
hy=$(cat "${sweeps[0]}/1/.hydra/hydra.yaml" 2>&1)
expect_contains "$hy" "mode: MULTIRUN"
expect_contains "$hy" "num: 1"
expect_contains "$hy" "id: '1'"
# A sweep.dir of the user's, relative to the main workspace too.
expect_ok forja exp run -m lr=0.6,0.7 hydra.sweep.dir=runs/sweep
expect_eq "$(cat runs/sweep/0/ckpt/lr.txt runs/sweep/1/ckpt/lr.txt 2>&1 | tr '\n' ' ')" "0.6 0.7 "

# A command that names a config value holding the output folder: the same.
new_repo indirect
mkdir -p conf
printf 'lr: 0.1\nckpt: ${hydra:runtime.output_dir}/ckpt\n' >conf/config.yaml
cat >>forja.yaml <<'YAML'
stages:
  train:
    cmd: mkdir -p ${ckpt} && echo ${lr} > ${ckpt}/lr.txt && echo ${lr} > model.txt
    params: [lr]
    outs: [model.txt]
YAML
expect_ok forja run hydra.run.dir=runs/a
expect_eq "$(cat runs/a/ckpt/lr.txt 2>&1)" 0.1
expect_contains "$(cat forja.lock)" 'mkdir -p ${hydra:runtime.output_dir}/ckpt'
expect_ok forja run hydra.run.dir=runs/b
expect_not_contains "$OUT" "Running stage"
expect_ok forja run lr=0.3 hydra.run.dir=runs/c
expect_eq "$(cat runs/c/ckpt/lr.txt 2>&1)" 0.3

# ${hydra:...} in outs (or deps, params, wdir): one line saying where it may go.
new_repo refused
mkdir -p conf
printf 'lr: 0.1\n' >conf/config.yaml
cat >>forja.yaml <<'YAML'
stages:
  train:
    cmd: touch model.pkl
    outs:
      - ${hydra:runtime.output_dir}/model.pkl
YAML
expect_fail 1 forja run
expect_one_error_line "$OUT"
expect_contains "$OUT" "stages.train.outs: \${hydra:...} cannot be used in outs: Hydra's output folder is new every run, so forja could never find this stage up to date; use \${hydra:...} in cmd or env, and give outs a fixed path"
# Through a config value that reads it, the folder is absolute: refused as any absolute out.
printf 'lr: 0.1\nout: ${hydra:runtime.output_dir}\n' >conf/config.yaml
sed -i 's|\${hydra:runtime.output_dir}/model.pkl|${out}/model.pkl|' forja.yaml
expect_fail 1 forja run
expect_one_error_line "$OUT"
expect_contains "$OUT" "stages.train.outs: '$PWD/outputs/"
expect_contains "$OUT" "is an absolute path"

finish
