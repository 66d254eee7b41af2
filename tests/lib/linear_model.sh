# A model package the monitoring CLI tests share: a linear model on two features, xgboost's
# gblinear JSON written by hand, so that its predictions are known exactly: 0.5 + x + 2 z.
# Source after tests/lib/common.sh, then: make_linear_package DIR.
make_linear_package() {
  mkdir -p "$1"
  cat >"$1/model.json" <<'EOF'
{"learner":{"attributes":{},"feature_names":[],"feature_types":[],"gradient_booster":{"model":{"boosted_rounds":1,"weights":[1.0,2.0,0.0]},"name":"gblinear"},"learner_model_param":{"base_score":"5E-1","boost_from_average":"1","num_class":"0","num_feature":"2","num_target":"1"},"objective":{"name":"reg:squarederror","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[2,1,4]}
EOF
  cat >"$1/model.yaml" <<'EOF'
format: 1
flavor: xgboost
model: model.json
signature:
  inputs:
    - {name: features, datatype: FP32, shape: [-1, 2]}
  outputs:
    - {name: score, datatype: FP32, shape: [-1]}
EOF
}
