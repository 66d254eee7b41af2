"""@forja.main: a drop-in for @hydra.main that composes through the forja binary.

The decorated function gets the DictConfig Hydra would give it: the same keys
and values, interpolations left for OmegaConf to resolve, `${hydra:KEY}` and
`${now:FORMAT}` resolvers registered, struct mode on. The run's output folder
(hydra.runtime.output_dir) is made, its .hydra/ record written, and the job
runs in it only with hydra.job.chdir=true, as Hydra >= 1.2 does.

Command line (as Hydra's): OVERRIDES, -m/--multirun, --cfg/-c job|hydra|all
[--resolve] [-p KEY], -cn/--config-name, -cp/--config-path, -h/--help.
The forja binary is $FORJA, else `forja` on PATH. As a `forja run` stage
without overrides on its command line, the app gets the run's config
($FORJA_PARAMS) and hydra node ($FORJA_HYDRA) instead of composing again.
"""
import enum
import functools
import inspect
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from typing import Any, Callable, List, Optional

from omegaconf import DictConfig, OmegaConf

__all__ = ["main", "HydraConfig", "RunMode"]

_UNSPECIFIED_ = object()


class RunMode(enum.Enum):
    """hydra.types.RunMode: what ${hydra:mode} gives."""

    RUN = 1
    MULTIRUN = 2


class HydraConfig:
    """hydra.core.hydra_config.HydraConfig: HydraConfig.get() is the running job's hydra node."""

    _cfg: Optional[DictConfig] = None

    @classmethod
    def get(cls) -> DictConfig:
        if cls._cfg is None:
            raise ValueError("HydraConfig was not set (call it from a @forja.main function)")
        return cls._cfg

    @classmethod
    def initialized(cls) -> bool:
        return cls._cfg is not None


def _fail(msg: str, code: int = 2) -> None:
    print("forja.main: " + msg, file=sys.stderr)
    raise SystemExit(code)


def _forja_binary() -> str:
    exe = os.environ.get("FORJA") or shutil.which("forja")
    if not exe:
        _fail("the forja binary was not found; set FORJA=/path/to/forja or put forja on PATH", 1)
    return exe


_said: set = set()  # forja's stderr lines already shown (a multirun's notice once, not once a job)


def _run_forja(args: List[str]) -> Any:
    """Runs `forja ARGS` and returns its JSON output; exits as forja did on an error."""
    cmd = [_forja_binary()] + args
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    except OSError as e:
        _fail("cannot run %s: %s; set FORJA=/path/to/forja" % (cmd[0], e), 1)
    for line in p.stderr.decode("utf-8", "replace").splitlines():
        if p.returncode != 0 or line not in _said:
            print(line, file=sys.stderr)
            _said.add(line)
    if p.returncode != 0:
        raise SystemExit(p.returncode)  # forja said why (one line) on stderr
    return json.loads(p.stdout.decode("utf-8"))


# ---- resolvers (Hydra registers the same two) -----------------------------------------


def _hydra_resolver(path: str) -> Any:
    return OmegaConf.select(HydraConfig.get(), path)


# The time of this process's ${now:...}: Hydra caches each pattern for the
# process; forja composes with the same time (--now), so hydra.run.dir and the
# config's own ${now:...} agree.
_NOW = datetime.now().replace(microsecond=0)


def _register_resolvers() -> None:
    OmegaConf.register_new_resolver("hydra", _hydra_resolver, replace=True)
    if not OmegaConf.has_resolver("now"):
        OmegaConf.register_new_resolver("now", lambda pattern: _NOW.strftime(pattern), use_cache=True)


# ---- the command line ---------------------------------------------------------------------


class _Args:
    def __init__(self) -> None:
        self.overrides: List[str] = []
        self.multirun = False
        self.cfg: Optional[str] = None
        self.resolve = False
        self.package: Optional[str] = None
        self.config_name: Optional[str] = None
        self.config_path: Optional[str] = None
        self.help = False


_UNSUPPORTED = {
    "--hydra-help", "--version", "--info", "-i", "--shell-completion", "-sc", "--config-dir", "-cd",
    "--run", "-r", "--experimental-rerun",
}


def _parse(argv: List[str]) -> _Args:
    a = _Args()
    i = 0

    def value(flag: str) -> str:
        nonlocal i
        if "=" in flag and flag.startswith("-"):
            return flag.split("=", 1)[1]
        i += 1
        if i >= len(argv):
            _fail("%s needs a value" % flag)
        return argv[i]

    while i < len(argv):
        x = argv[i]
        name = x.split("=", 1)[0] if x.startswith("--") else x
        if name in ("-m", "--multirun"):
            a.multirun = True
        elif name in ("-c", "--cfg"):
            a.cfg = value(x)
            if a.cfg not in ("job", "hydra", "all"):
                _fail("--cfg takes job, hydra or all, not %r" % a.cfg)
        elif name == "--resolve":
            a.resolve = True
        elif name in ("-p", "--package"):
            a.package = value(x)
        elif name in ("-cn", "--config-name"):
            a.config_name = value(x)
        elif name in ("-cp", "--config-path"):
            a.config_path = value(x)
        elif name in ("-h", "--help"):
            a.help = True
        elif name in _UNSUPPORTED:
            _fail("%s is a Hydra option forja.main does not support (see docs/hydra-compat.md)" % name)
        elif x.startswith("-") and not x.startswith("--") and len(x) > 1 and "=" not in x and x[1] != "~":
            _fail("unknown option %s" % x)
        elif x.startswith("--") and "=" not in x:
            _fail("unknown option %s" % x)
        else:
            a.overrides.append(x)
        i += 1
    return a


# ---- one job --------------------------------------------------------------------------------


def _compose(conf_dir: str, config_name: str, job_name: str, overrides: List[str],
             job_num: Optional[int] = None) -> Any:
    args = ["config", "show", "--json", "--no-resolve", "--hydra", "--config-dir", conf_dir,
            "--config-name", config_name, "--job-name", job_name, "--now", str(int(_NOW.timestamp()))]
    if job_num is not None:
        args += ["--job-num", str(job_num)]
    return _run_forja(args + ["--"] + overrides)


def _to_configs(data: Any):
    hydra_node = data.pop("hydra")
    mode = hydra_node.get("mode")
    if mode in ("RUN", "MULTIRUN"):
        hydra_node["mode"] = RunMode[mode]
    cfg = OmegaConf.create(data)
    OmegaConf.set_struct(cfg, True)
    hydra_cfg = OmegaConf.create(hydra_node)
    return cfg, hydra_cfg


def _write_record(cfg: DictConfig, hydra_cfg: DictConfig, output_dir: str) -> None:
    sub = hydra_cfg.get("output_subdir")
    if sub is None:
        return
    d = os.path.join(output_dir, str(sub))
    os.makedirs(d, exist_ok=True)
    OmegaConf.save(cfg, os.path.join(d, "config.yaml"))
    OmegaConf.save(OmegaConf.create({"hydra": hydra_cfg}), os.path.join(d, "hydra.yaml"))
    OmegaConf.save(hydra_cfg.overrides.task, os.path.join(d, "overrides.yaml"))


def _run_job(task: Callable[[DictConfig], Any], data: Any) -> Any:
    cfg, hydra_cfg = _to_configs(data)
    HydraConfig._cfg = hydra_cfg
    output_dir = hydra_cfg.runtime.output_dir
    os.makedirs(output_dir, exist_ok=True)
    _write_record(cfg, hydra_cfg, output_dir)
    old = os.getcwd()
    env_node = hydra_cfg.job.get("env_set")  # an empty DictConfig is falsy: no env_set at all
    env_set = OmegaConf.to_container(env_node, resolve=True) if env_node else {}
    saved = {k: os.environ.get(k) for k in env_set}
    os.environ.update({k: str(v) for k, v in env_set.items()})  # hydra.job.env_set, for the job only
    if hydra_cfg.job.get("chdir") is True:
        os.chdir(output_dir)
    try:
        return task(cfg)
    finally:
        os.chdir(old)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _print_cfg(data: Any, which: str, resolve: bool, package: Optional[str]) -> None:
    # No job runs: as Hydra, no output folder and no mode yet.
    data["hydra"]["runtime"]["output_dir"] = None
    data["hydra"]["mode"] = None
    cfg, hydra_cfg = _to_configs(data)
    HydraConfig._cfg = hydra_cfg
    if which == "all":
        out = OmegaConf.create({"hydra": OmegaConf.to_container(hydra_cfg)})
        out = OmegaConf.merge(out, cfg)
    elif which == "hydra":
        out = OmegaConf.create({"hydra": OmegaConf.to_container(hydra_cfg)})
    else:
        out = cfg
    if package:
        out = OmegaConf.select(out, package)
        if out is None:
            _fail("--package %s: no such key in the config" % package, 1)
        if not OmegaConf.is_config(out):
            print(out)
            return
        print("# @package " + package)
    sys.stdout.write(OmegaConf.to_yaml(out, resolve=resolve))


def _help(conf_dir: str, config_name: str, job_name: str, data: Any) -> None:
    groups = _run_forja(["config", "groups", "--json", "--config-dir", conf_dir, "--config-name", config_name])
    print("%s is powered by forja (Hydra-compatible configuration).\n" % job_name)
    print("== Configuration groups ==")
    print("Compose your configuration from those groups (group=option)\n")
    for g in groups:
        print("%s: %s" % (g["group"], ", ".join(g["options"])))
    print("\n== Config ==")
    print("Override anything in the config (foo.bar=value)\n")
    cfg, _ = _to_configs(data)
    sys.stdout.write(OmegaConf.to_yaml(cfg))


def _stage_data() -> Optional[Any]:
    """Inside a `forja run` stage ($FORJA_PARAMS and $FORJA_HYDRA set): the run's
    config and hydra node, so the app sees the run's overrides and output folder."""
    params, hydra_yaml = os.environ.get("FORJA_PARAMS"), os.environ.get("FORJA_HYDRA")
    if not params or not hydra_yaml or not os.path.isfile(hydra_yaml):
        return None
    data = OmegaConf.to_container(OmegaConf.load(params))
    data["hydra"] = OmegaConf.to_container(OmegaConf.load(hydra_yaml))["hydra"]
    return data


def _config_dir(task: Callable[..., Any], config_path: Optional[str]) -> str:
    if config_path is None:
        _fail("config_path=None (no config folder) is not supported; pass config_path=\"conf\"", 1)
    if config_path.startswith("pkg://"):
        _fail("config_path %r: package config paths are not supported; use a folder" % config_path, 1)
    if os.path.isabs(config_path):
        return config_path
    fn = task
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    try:
        base = os.path.dirname(os.path.abspath(inspect.getfile(fn)))
    except TypeError:
        base = os.getcwd()
    return os.path.normpath(os.path.join(base, config_path))


def _job_name(task: Callable[..., Any]) -> str:
    fn = task
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    mdl = getattr(fn, "__module__", None)
    if mdl not in (None, "__main__"):
        return mdl.rsplit(".", 1)[-1]
    try:
        return os.path.splitext(os.path.basename(inspect.getfile(fn)))[0]
    except TypeError:
        return "app"


def _multirun(task: Callable[[DictConfig], Any], conf_dir: str, config_name: str, job_name: str,
              overrides: List[str]) -> None:
    jobs = _run_forja(["config", "show", "-m", "--json", "--config-dir", conf_dir, "--config-name",
                       config_name, "--"] + overrides)
    print("forja.main: launching %d jobs" % len(jobs), file=sys.stderr)
    for num, job in enumerate(jobs):  # one time (--now) for all: one sweep folder, as Hydra's
        data = _compose(conf_dir, config_name, job_name, job, job_num=num)
        print("forja.main: #%d : %s" % (num, " ".join(job)), file=sys.stderr)
        _run_job(task, data)


def main(config_path: Any = _UNSPECIFIED_, config_name: Optional[str] = None,
         version_base: Any = _UNSPECIFIED_) -> Callable[[Callable[[DictConfig], Any]], Any]:
    """@hydra.main's signature and behaviour; version_base is accepted (forja composes as 1.3)."""
    if config_path is _UNSPECIFIED_:  # as Hydra: no folder from version_base 1.2 on, else "."
        newer = version_base is None or (isinstance(version_base, str) and
                                         tuple(int(x) for x in version_base.split(".")[:2]) >= (1, 2))
        config_path = None if newer else "."

    def decorator(task: Callable[[DictConfig], Any]) -> Callable[..., Any]:
        @functools.wraps(task)
        def decorated_main(cfg_passthrough: Optional[DictConfig] = None) -> Any:
            if cfg_passthrough is not None:
                return task(cfg_passthrough)
            _register_resolvers()
            a = _parse(sys.argv[1:])
            conf_dir = _config_dir(task, a.config_path if a.config_path is not None else config_path)
            name = a.config_name or config_name
            if not name:
                _fail("no config name: pass config_name= to @forja.main or --config-name NAME", 1)
            job_name = _job_name(task)
            if a.multirun and not (a.help or a.cfg):
                return _multirun(task, conf_dir, name, job_name, a.overrides)
            data = None if a.overrides else _stage_data()
            if data is None:
                data = _compose(conf_dir, name, job_name, a.overrides)
            if a.help:
                return _help(conf_dir, name, job_name, data)
            if a.cfg:
                return _print_cfg(data, a.cfg, a.resolve, a.package)
            return _run_job(task, data)

        return decorated_main

    return decorator
