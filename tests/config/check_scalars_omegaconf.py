"""Types each scalar of yaml_scalars.txt with OmegaConf's YAML loader and writes
(or, with --check, compares) yaml_scalars.expected: "<input>\t<type>\t<python repr>"."""
import math
import sys
from pathlib import Path

import yaml
from omegaconf._utils import get_yaml_loader

here = Path(__file__).parent
lines = [l for l in (here / "yaml_scalars.txt").read_text().splitlines() if l and not l.startswith("#")]
out = []
for s in lines:
    v = yaml.load("v: " + s, Loader=get_yaml_loader())["v"]
    t = type(v).__name__
    if isinstance(v, float):
        r = "nan" if math.isnan(v) else repr(v)
    else:
        r = repr(v)
    out.append(f"{s}\t{t}\t{r}")
text = "\n".join(out) + "\n"
exp = here / "yaml_scalars.expected"
if "--check" in sys.argv:
    if exp.read_text() != text:
        sys.exit("yaml_scalars.expected differs from what OmegaConf says; rerun without --check and review")
    print(f"{len(out)} passed, 0 failed")
else:
    exp.write_text(text)
