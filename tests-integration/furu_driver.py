"""Entry point of the subprocesses the integration tests start: `python -m furu_driver '<json>'`.

The JSON spec says what to run:

- `step`: `{"cls": "Counted", "kwargs": {...}}`, a class of `furu_steps` and its fields;
  `inner` in the kwargs of an `Outer` is itself such a spec;
- `action`: `load` (`load_or_create()` `calls` times, default 1), `many` (`load_or_create_many`
  over `graph`: `{"counter_dir", "fail_flag", "select": [names]}`), or `local` (a class defined
  inside a function);
- `ready` / `go`: write the `ready` file, then wait for the `go` file before calling furu (to
  start several processes at the same moment).

The last line on stdout is one JSON object: `{"ok": true, "results": [...], ...}`, or, for a
furu error, `{"ok": false, "error_type": ..., "message": ..., ...}` with exit status 3. Anything
else (a bug, a signal) ends the process the ordinary way.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Any

import furu
import furu_steps


def build_step(spec: dict[str, Any]) -> furu.Furu[Any]:
    kwargs = dict(spec.get("kwargs", {}))
    if isinstance(kwargs.get("inner"), dict):
        kwargs["inner"] = build_step(kwargs["inner"])
    return getattr(furu_steps, spec["cls"])(**kwargs)  # type: ignore[no-any-return]


def run(spec: dict[str, Any]) -> dict[str, Any]:
    action = spec.get("action", "load")
    if action == "many":
        graph = spec["graph"]
        nodes = furu_steps.build_graph(
            graph["counter_dir"], graph.get("fail_flag", ""), graph.get("sleep_secs", 0.0)
        )
        steps = [nodes[name] for name in graph["select"]]
        results = furu.load_or_create_many(steps, max_workers=spec.get("max_workers"))
        return {"results": results}
    if action == "local":
        step = furu_steps.make_local_step_class()(name="local")
        return {"results": [step.load_or_create()], "furu_dir": str(step.furu_dir)}
    step = build_step(spec["step"])
    results = [step.load_or_create() for _ in range(spec.get("calls", 1))]
    return {"results": results, "furu_dir": str(step.furu_dir)}


def describe_error(err: furu.FuruError) -> dict[str, Any]:
    out: dict[str, Any] = {"ok": False, "error_type": type(err).__name__, "message": str(err)}
    if isinstance(err, furu.FuruComputeError):
        out["state_path"] = str(err.state_path)
        original = err.original_error
        out["original_type"] = type(original).__name__ if original else None
        out["original_type_name"] = getattr(original, "type_name", None)
    if isinstance(err, furu.FuruBatchError):
        out["failures"] = [[name, type(e).__name__, str(e)] for name, e in err.failures]
        out["skipped"] = list(err.skipped)
    return out


def main() -> int:
    # A child inherits an ignored SIGINT from some parents (xdist workers, shells running jobs in
    # the background); the tests send it a real Ctrl-C, so restore Python's default handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    spec = json.loads(sys.argv[1])
    if spec.get("ready"):
        furu_steps.write_marker(spec["ready"], "ready")
    if spec.get("go"):
        furu_steps.wait_for_file(spec["go"])
    try:
        out, status = {"ok": True, **run(spec)}, 0
    except furu.FuruError as err:
        out, status = describe_error(err), 3
    out["threads"] = sorted(t.name for t in threading.enumerate())
    print(json.dumps(out), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
