"""The composed configuration forja hands every stage (FORJA_PARAMS)."""
import os

import yaml


def load():
    with open(os.environ["FORJA_PARAMS"]) as f:
        return yaml.safe_load(f)
