"""Sweeps and batches: many experiments planned and computed in the project's environment.

The server never imports user code. A sweep is the recorded config of one experiment with some
fields set to each combination of values (`expand`: the cartesian product, every value checked
against the field's recorded type first); a batch is the recorded configs of selected
experiments. Either is handed, as a spec file, to `<project python> -c BATCH_RUNNER <spec>`
(the interpreter and directory of reruns and tasks, `Tasks.python`/`Tasks.cwd`), which rebuilds
the steps with `Furu.from_dict` and calls `furu.plan` (what `load_or_create_many` plans):

- `plan` mode prints the plan as JSON: each requested experiment `create`, `cached` or
  `running` (a live process holds its compute lock), and the dependencies to create first;
- `run` mode runs the plan's jobs on `furu.LocalExecutor` (or furu-slurm's `SlurmExecutor`),
  printing a progress line per job on stderr, then the outcome as JSON; it is a task
  (`Tasks.start`), followed with GET /api/tasks/{id} like a migration.
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

import furu
from furu_server._code_models import Task
from furu_server._errors import ErrorCode, ServerError
from furu_server._experiments import load
from furu_server._snippet import apply_overrides, check_config, check_names
from furu_server._sweep_models import (
    BatchRequest,
    PlannedItem,
    SlurmAvailability,
    SweepPlan,
    SweepRequest,
)
from furu_server._tasks import Tasks, failure_of, parse_json

BATCH_RUNNER = """\
import importlib.util, json, os, shutil, sys
with open(sys.argv[1], encoding="utf-8") as f:
    spec = json.load(f)
if spec["mode"] == "run":  # read once: the server's cache keeps no spec of a finished batch
    try:
        os.remove(sys.argv[1])
    except OSError:
        pass
import furu
if spec["force"]:
    furu.FURU_CONFIG.force_recompute = frozenset(spec["force"])
steps = [furu.Furu.from_dict(c) for c in spec["configs"]]
store = furu.Store.current()

def running(step):
    try:
        return store.step_dir_of(step).live_holder() is not None
    except Exception:
        return False

def item(planned):
    sid = furu.step_id(planned.step)
    status = "cached" if planned.action == "load" else "running" if running(planned.step) else "create"
    return {"namespace": sid.namespace, "hash": sid.hash, "status": status, "reason": planned.reason}

def slurm():
    if importlib.util.find_spec("furu_slurm") is None:
        return {"available": False, "reason": "furu-slurm is not installed in the project's "
                "environment (" + sys.executable + "): pip install furu-slurm"}
    if importlib.util.find_spec("submitit") is None:
        return {"available": False, "reason": "submitit is not installed in the project's environment"}
    if shutil.which("sbatch") is None:
        return {"available": False, "reason": "furu-slurm is installed but sbatch is not on PATH "
                "here: this machine is not a SLURM submit node"}
    return {"available": True, "reason": "furu-slurm " + sys.executable}

the_plan = furu.plan(steps)
roots = set(the_plan.roots)
report = {
    "items": [item(the_plan.steps[i]) for i in the_plan.roots],
    "dependencies": [item(p) for i, p in enumerate(the_plan.steps)
                     if i not in roots and p.action == "create"],
    "slurm": slurm(),
}
if spec["mode"] == "plan":
    print(json.dumps(report), flush=True)
    sys.exit(0)

creates = [i for i, p in enumerate(the_plan.steps) if p.action == "create"]
renumber = {old: new for new, old in enumerate(creates)}
jobs = [furu.Job(renumber[i], the_plan.steps[i].step,
                 tuple(renumber[d] for d in the_plan.steps[i].deps)) for i in creates]

class Progress:
    def __init__(self):
        self.created, self.failed, self.skipped = [], [], []
    def say(self, what, job):
        done = len(self.created) + len(self.failed) + len(self.skipped)
        print(f"furu-batch: {done}/{len(jobs)} {what} {furu.step_id(job.step).short}",
              file=sys.stderr, flush=True)
    def started(self, job):
        self.say("started", job)
    def succeeded(self, job):
        self.created.append(str(furu.step_id(job.step)))
        self.say("created", job)
    def failed(self, job, error):
        self.failed.append({"ref": str(furu.step_id(job.step)), "error": str(error)[:2000]})
        self.say("failed", job)
    def skipped(self, job, reason):
        self.skipped.append({"ref": str(furu.step_id(job.step)), "error": str(reason)[:2000]})
        self.say("skipped", job)

progress = Progress()
print(f"furu-batch: 0/{len(jobs)} to create", file=sys.stderr, flush=True)
if jobs:
    if spec["executor"] == "slurm":
        import furu_slurm
        executor = furu_slurm.SlurmExecutor(folder=spec["slurm_folder"])
    else:
        executor = furu.LocalExecutor(spec.get("max_workers"))
    executor.run(jobs, progress)
report.update(created=progress.created, failed=progress.failed, skipped=progress.skipped)
print(json.dumps(report), flush=True)
if progress.failed or progress.skipped:
    first = (progress.failed or progress.skipped)[0]
    print(f"furu-batch: {len(progress.failed)} failed, {len(progress.skipped)} skipped; "
          f"first: {first['ref']}: {first['error']}", file=sys.stderr, flush=True)
    sys.exit(1)
"""
_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
}


def _schema_types(metadata: dict[str, Any] | None) -> dict[str, str]:
    """`{field: type}` of the recorded `config_schema` (top-level fields)."""
    schema = (metadata or {}).get("config_schema")
    out: dict[str, str] = {}
    for entry in schema if isinstance(schema, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            out[entry["name"]] = str(entry.get("type", ""))
    return out


def check_value(path: str, value: Any, types: dict[str, str]) -> None:
    """Refuse a value that is not of the field's recorded type (`int`, `float`, `str`,
    `bool`; other types are left to the project's code to check).

    Raises:
        ServerError: `bad_request`; `detail.field` names the field.
    """
    kind = types.get(path, "")
    allowed = _TYPES.get(kind)
    if allowed is None:
        return
    ok = isinstance(value, allowed) and (kind == "bool" or not isinstance(value, bool))
    if not ok:
        shown = json.dumps(value)[:100]
        raise ServerError(
            ErrorCode.BAD_REQUEST,
            f"field {path!r} is a {kind}, and {shown} is not one: give {kind} values "
            f"(e.g. {_EXAMPLES[kind]}).",
            {"field": path},
        )


_EXAMPLES = {"int": "3", "float": "0.01", "str": '"adam"', "bool": "true"}


def expand(
    config: dict[str, Any],
    metadata: dict[str, Any] | None,
    request: SweepRequest,
    limit: int,
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each combination of the request's axes as (swept values, full config), in order.

    Raises:
        ServerError: `bad_request` naming the field: an unknown field, a value of the wrong
            type, an axis without values, or more combinations than `limit`.
    """
    types = _schema_types(metadata)
    for path, values in request.axes.items():
        if not values:
            raise ServerError(
                ErrorCode.BAD_REQUEST,
                f"field {path!r} is swept over no values: give at least one, or remove it.",
                {"field": path},
            )
    count = 1
    for axis in request.axes.values():
        count *= len(axis)
    if count > limit:
        sizes = " x ".join(f"{len(v)} {k}" for k, v in request.axes.items())
        raise ServerError(
            ErrorCode.BAD_REQUEST,
            f"the sweep has {count:,} configurations ({sizes}), more than the limit of "
            f"{limit:,}: sweep fewer values, or start the server with a higher --max-sweep "
            "(or FURU_SERVER_MAX_SWEEP).",
            {"count": count, "limit": limit},
        )
    for path, value in [*request.overrides.items()] + [
        (p, v) for p, vs in request.axes.items() for v in vs
    ]:
        check_names(value, f"override {path}", "override")
        check_value(path, value, types)
    base = apply_overrides(config, request.overrides) if request.overrides else config
    names = list(request.axes)
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for combo in itertools.product(*(request.axes[n] for n in names)):
        chosen = dict(zip(names, combo, strict=True))
        out.append((chosen, apply_overrides(base, chosen) if chosen else base))
    return out


def _run_plan(tasks: Tasks, spec: dict[str, Any], namespace: str | None) -> dict[str, Any]:
    """The plan the project's environment computes for `spec` (`plan` mode)."""
    path = _write_spec(tasks, spec)
    try:
        done = tasks.run([str(path)], namespace, script=BATCH_RUNNER)
    finally:
        path.unlink(missing_ok=True)
    found = parse_json(done.stdout) if done.returncode == 0 else None
    if not isinstance(found, dict):
        raise ServerError(
            ErrorCode.PLAN_FAILED,
            "planning in the project's environment failed: "
            f"{failure_of(done.stderr, done.returncode)} (run the Python snippet from a shell "
            "to see the whole error; --rerun-python chooses the environment).",
        )
    return found


def _write_spec(tasks: Tasks, spec: dict[str, Any]) -> Any:
    out_dir = tasks.settings.runs_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{os.urandom(8).hex()}.batch.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def _items(raw: Any, values: list[dict[str, Any]] | None = None) -> list[PlannedItem]:
    items = [PlannedItem.model_validate(x) for x in raw or []]
    for item, v in zip(items, values or [], strict=False):
        item.values = v
    return items


def _plan(
    tasks: Tasks,
    spec: dict[str, Any],
    namespace: str | None,
    values: list[dict[str, Any]] | None,
    code: str,
) -> SweepPlan:
    raw = _run_plan(tasks, spec, namespace)
    items, deps = _items(raw.get("items"), values), _items(raw.get("dependencies"))
    counts = {s: sum(1 for i in items if i.status == s) for s in ("create", "cached", "running")}
    summary = (
        f"{counts['create']} to create, {counts['cached']} cached, "
        f"{counts['running']} running elsewhere"
    )
    if deps:
        summary += f" (+{len(deps)} dependencies to create first)"
    return SweepPlan(
        items=items,
        dependencies=deps,
        to_create=counts["create"],
        cached=counts["cached"],
        running=counts["running"],
        summary=summary,
        slurm=SlurmAvailability.model_validate(
            raw.get("slurm") or {"available": False, "reason": "unknown"}
        ),
        code=code,
        limit=tasks.settings.max_sweep,
    )


def _sweep_spec(
    tasks: Tasks, request: SweepRequest
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    loaded = load(tasks.index, request.namespace, request.hash)
    config = loaded.record.config
    if config is None:
        raise ServerError(
            ErrorCode.RERUN_UNAVAILABLE,
            f"{request.namespace}/{request.hash} has no readable metadata.json, so its config "
            "is unknown; sweep from your code instead.",
        )
    check_config(config, request.namespace)
    expanded = expand(config, loaded.metadata, request, tasks.settings.max_sweep)
    configs = [c for _, c in expanded]
    spec = _spec("plan", configs, [], request.executor, request.max_workers, tasks)
    return spec, [v for v, _ in expanded], python_code(configs, [], request.executor)


def _spec(
    mode: str,
    configs: list[dict[str, Any]],
    force: list[str],
    executor: str,
    max_workers: int | None,
    tasks: Tasks,
) -> dict[str, Any]:
    return {
        "mode": mode,
        "configs": configs,
        "force": force,
        "executor": executor,
        "max_workers": max_workers,
        "slurm_folder": str(tasks.settings.runs_dir() / "slurm"),
    }


def plan_sweep(tasks: Tasks, request: SweepRequest) -> SweepPlan:
    spec, values, code = _sweep_spec(tasks, request)
    return _plan(tasks, spec, request.namespace, values, code)


def launch_sweep(tasks: Tasks, request: SweepRequest) -> Task:
    spec, _, _ = _sweep_spec(tasks, request)
    return _launch(tasks, "sweep", spec, request.namespace)


def _launch(tasks: Tasks, kind: Any, spec: dict[str, Any], namespace: str | None) -> Task:
    spec = {**spec, "mode": "run"}
    path = _write_spec(tasks, spec)
    return tasks.start(kind, [str(path)], namespace, script=BATCH_RUNNER)


def _batch_spec(tasks: Tasks, request: BatchRequest) -> tuple[dict[str, Any], str, str]:
    limit = tasks.settings.max_sweep
    if len(request.experiments) > limit:
        raise ServerError(
            ErrorCode.BAD_REQUEST,
            f"{len(request.experiments):,} experiments are selected, more than the limit of "
            f"{limit:,}: select fewer, or start the server with a higher --max-sweep (or "
            "FURU_SERVER_MAX_SWEEP).",
            {"count": len(request.experiments), "limit": limit},
        )
    configs: list[dict[str, Any]] = []
    namespaces: list[str] = []
    for ref in dict.fromkeys(request.experiments):
        namespace, _, digest = ref.rpartition("/")
        loaded = load(tasks.index, namespace, digest)
        if loaded.record.config is None:
            raise ServerError(
                ErrorCode.RERUN_UNAVAILABLE,
                f"{ref} has no readable metadata.json, so its config is unknown; unselect it "
                "or recreate it from your code.",
                {"ref": ref},
            )
        check_config(loaded.record.config, namespace)
        configs.append(loaded.record.config)
        namespaces.append(namespace)
    force = sorted(set(namespaces)) if request.mode == "rerun" else []
    spec = _spec("plan", configs, force, request.executor, request.max_workers, tasks)
    return spec, python_code(configs, force, request.executor), namespaces[0]


def plan_batch(tasks: Tasks, request: BatchRequest) -> SweepPlan:
    spec, code, namespace = _batch_spec(tasks, request)
    return _plan(tasks, spec, namespace, None, code)


def launch_batch(tasks: Tasks, request: BatchRequest) -> Task:
    spec, _, namespace = _batch_spec(tasks, request)
    return _launch(tasks, "batch", spec, namespace)


def python_code(configs: list[dict[str, Any]], force: list[str], executor: str) -> str:
    """The Python that does what the batch does: `furu.load_or_create_many` of the configs."""
    imports: dict[str, None] = {"import furu": None}
    exprs: list[str] = []
    for config in configs:
        try:
            rendered = furu.render_config(config)
        except furu.FuruConfigError as exc:
            raise ServerError(
                ErrorCode.RERUN_UNAVAILABLE, f"cannot write Python for this config: {exc}"
            ) from None
        imports.update(dict.fromkeys(rendered.imports))
        exprs.append(rendered.expression)
    lines = list(imports)
    if executor == "slurm":
        lines.append("import furu_slurm")
    lines.append("")
    if force:
        lines.append("# Recompute them even though they are cached (once in this process).")
        lines.append(f"furu.FURU_CONFIG.force_recompute = frozenset({set(force)!r})")
    lines.append("steps = [")
    lines += [f"    {e}," for e in exprs]
    lines.append("]")
    if executor == "slurm":
        lines.append('executor = furu_slurm.SlurmExecutor(folder="slurm-logs")')
        lines.append("results = furu.load_or_create_many(steps, executor=executor)")
    else:
        lines.append("results = furu.load_or_create_many(steps)")
    return "\n".join(lines) + "\n"
