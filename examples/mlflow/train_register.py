"""Train a scikit-learn model, log and register it with MLflow's own client against forja server,
and point the alias `champion` at it. forja then serves the registered model as it is:

    forja server &                                        # http://127.0.0.1:5000
    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python examples/mlflow/train_register.py
    forja serve models:/iris@champion --store http://127.0.0.1:5000
    forja predict models:/iris@champion -i rows.csv -o predictions.csv --store http://127.0.0.1:5000

(tests/serve/mlflow_models_test.py runs this script.)
"""
import mlflow
import mlflow.sklearn
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True, as_frame=True)
mlflow.set_experiment("iris")
with mlflow.start_run():
    model = LogisticRegression(max_iter=500).fit(X, y)
    mlflow.log_metric("accuracy", model.score(X, y))
    # The input example gives the model its signature: the four named columns.
    info = mlflow.sklearn.log_model(model, name="model", registered_model_name="iris", input_example=X.head(3))
version = str(info.registered_model_version)
MlflowClient().set_registered_model_alias("iris", "champion", version)
print(f"registered iris/{version}, now iris@champion")
