"""A Hydra app; run with FORJA_HYDRA_APP_IMPORT=forja to switch to forja.main.

Prints {"cfg": the config, resolved, "cwd": the working directory} as JSON on
one line, and writes the same to <output_dir>/result.json.
"""
import json
import os
import sys

if os.environ.get("FORJA_HYDRA_APP_IMPORT") == "forja":
    import forja as hydra
else:
    import hydra
from omegaconf import OmegaConf


@hydra.main(config_path="conf", config_name="config", version_base=None)
def main(cfg):
    # More of Hydra's runtime, read the way apps read it: through ${hydra:...}.
    keys = ["job.id", "job.num", "job.config_name", "job.chdir", "run.dir", "sweep.dir",
            "overrides.task", "output_subdir", "runtime.version_base", "verbose"]
    probe = OmegaConf.create({k: "${hydra:%s}" % k for k in keys})
    out = {"cfg": OmegaConf.to_container(cfg, resolve=True), "cwd": os.getcwd(), "env": os.environ.get("APP_ENV"),
           "hydra": OmegaConf.to_container(probe, resolve=True)}
    text = json.dumps(out, sort_keys=True, default=str)
    with open(os.path.join(cfg.paths.output_dir, "result.json"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
