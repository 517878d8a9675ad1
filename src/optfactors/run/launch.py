"""How a run is launched: inside a Hydra multirun or not, each launcher job's share of the machine, DDP
set-up checks and teardown, the config-group choices. Hydra's runtime config is read here and nowhere else
in the training path."""

from __future__ import annotations

import os

import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, open_dict

from optfactors.run.config import ConfigError, processes


def is_multirun() -> bool:
    """Whether this process runs a job of a Hydra multirun."""
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def parallel_jobs(launcher: DictConfig) -> int:
    """How many jobs of a sweep run at once under ``launcher`` (joblib's n_jobs=-1 is every core)."""
    cores = os.cpu_count() or 1
    n_jobs = launcher.get("n_jobs") or launcher.get("array_parallelism") or 1
    return n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)


def check_launch(cfg: DictConfig) -> None:
    """Refuse multi-process DDP inside a multirun that runs jobs in this process tree.

    Lightning starts DDP ranks by re-running the command line, which in a multirun would start the whole
    sweep again in every rank; under SLURM the ranks are SLURM tasks and this does not happen.
    """
    nproc = processes(cfg.trainer)
    launcher = HydraConfig.get().launcher.get("_target_", "") if HydraConfig.initialized() else ""
    if (
        is_multirun()
        and str(cfg.trainer.strategy).startswith("ddp")
        and nproc != 1
        and "Slurm" not in launcher
    ):
        raise ConfigError(
            "trainer.strategy",
            cfg.trainer.strategy,
            "multi-process DDP runs one run at a time: start it without -m (or under hydra/launcher=slurm)",
        )


def share_job_resources(cfg: DictConfig) -> None:
    """Give a job of a parallel launcher its share of CPU threads (and, under joblib, one GPU).

    Submitit jobs use ``hydra.launcher.cpus_per_task`` threads when it is set. Under joblib, n parallel
    jobs on c cores each get c // n threads (oversubscribed threads made an MNIST epoch 18x slower here),
    and on a machine with g > 1 GPUs job number j trains on GPU j mod g.
    """
    if not HydraConfig.initialized():
        return
    launcher = HydraConfig.get().launcher
    if launcher.get("cpus_per_task"):
        torch.set_num_threads(launcher.cpus_per_task)
    if "joblib" not in launcher.get("_target_", ""):
        return
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // parallel_jobs(launcher)))
    gpus = torch.cuda.device_count()
    if gpus > 1 and cfg.trainer.devices == 1:
        with open_dict(cfg):
            cfg.trainer.devices = [HydraConfig.get().job.num % gpus]


def group_choices() -> dict[str, str]:
    """The config-group options the run was composed from (e.g. optimizer: momentum), if Hydra did."""
    if not HydraConfig.initialized():
        return {}
    return {
        k: v
        for k, v in HydraConfig.get().runtime.choices.items()
        if v and not k.startswith("hydra") and "/" not in k
    }


def leave_process_group() -> None:
    """Tear DDP's process group down: Lightning does so only for nccl; gloo ranks may abort at exit."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def check_not_a_study_sweep(hydra: DictConfig) -> None:
    """Refuse a single run (no ``-m``) of a study whose sweep varies settings the command line leaves open:
    it would train the defaults under the study's name. The refusal names the command that runs the study
    and one that runs one of its runs."""
    if hydra.mode == RunMode.MULTIRUN:
        return
    given = [o for o in hydra.overrides.task if not o.startswith("experiment=")]
    chosen = {o.partition("=")[0].lstrip("+~") for o in given}
    params = {k: str(v) for k, v in (hydra.sweeper.params or {}).items()}
    left = {k: v for k, v in params.items() if k.lstrip("+~") not in chosen}
    if not left:
        return
    study = hydra.runtime.choices.get("experiment")
    one = " ".join([f"experiment={study}", *given, *(f"{k}={v.split(',')[0]}" for k, v in left.items())])
    raise ConfigError(
        "experiment",
        study,
        f"a sweep over {', '.join(left)}: run the study with `optfactors run -m experiment={study}`, or one "
        f"of its runs with `optfactors run {one}`",
    )
