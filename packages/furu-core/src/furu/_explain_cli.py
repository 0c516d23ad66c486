"""`furu explain` and `furu diff`: why steps would be created, and how two stored ones differ.

```
furu explain TARGET [TARGET ...] [--json]   every reason of every step a plan would create
furu diff A B [--json]                      two stored experiments, field by field
```
TARGET is `module:attr` naming a step, a list or tuple of steps, or a `FuruList` (imported with
the current directory on `sys.path`). A and B are `namespace/hash`, a hash prefix,
`Class/hash-prefix` or a step's directory, as `furu show` accepts.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from furu._errors import FuruConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `explain` and `diff` to the `furu` command's subparsers."""
    explain = sub.add_parser(
        "explain",
        help="why steps would be created: field by field against the nearest stored configs",
    )
    explain.add_argument(
        "target",
        nargs="+",
        help="module:attr naming a step, a list/tuple of steps, or a FuruList",
    )
    explain.add_argument("--json", action="store_true", help="print JSON")
    explain.set_defaults(run=_explain)
    diff = sub.add_parser("diff", help="how two stored experiments' configs differ")
    diff.add_argument("a", help="namespace/hash, a hash prefix, Class/hash-prefix, or a directory")
    diff.add_argument("b", help="the other one (the 'new' side)")
    diff.add_argument("--json", action="store_true", help="print JSON")
    diff.set_defaults(run=_diff, namespace=None)


def load_target(target: str) -> list[tuple[str, Any]]:
    """`(name, step)` for what `module:attr` names (the current directory is importable).

    Raises:
        FuruConfigError: not `module:attr`, the module cannot be imported, it has no such
            attribute, or the attribute holds no furu step.
    """
    from furu._furu import Furu
    from furu._furu_list import FuruList

    module_name, colon, attr = target.partition(":")
    if not colon or not module_name or not attr:
        raise FuruConfigError(
            f"the explain target {target!r} is not module:attr; name a step, a list of steps or a "
            "FuruList defined in an importable module, e.g. `pipeline.experiments:Sweep`."
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        value: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise FuruConfigError(
            f"cannot import {module_name!r} ({exc}). Run it from the project's "
            "directory, in the environment that has the project installed."
        ) from exc
    for part in attr.split("."):
        if not hasattr(value, part):
            raise FuruConfigError(
                f"module {module_name!r} has no attribute {attr!r}; name a step, "
                "a list of steps or a FuruList it defines."
            )
        value = getattr(value, part)
    if isinstance(value, Furu):
        return [(attr, value)]
    if isinstance(value, type) and issubclass(value, FuruList):
        return list(value.items())
    if isinstance(value, list | tuple) and value and all(isinstance(v, Furu) for v in value):
        return [(f"{attr}[{i}]", v) for i, v in enumerate(value)]
    raise FuruConfigError(
        f"{target} is a {type(value).__name__}, not a furu step, a list or tuple "
        "of steps, or a FuruList."
    )


def _explain(args: argparse.Namespace) -> int:
    from furu._explain import Comparer, explain
    from furu._planning import plan
    from furu._settings import set_furu_root
    from furu._workspace import Store, step_id

    if args.root:
        set_furu_root(Path(args.root))
    named = [pair for target in args.target for pair in load_target(target)]
    names = {step_id(step): name for name, step in named}
    the_plan = plan([step for _, step in named])
    comparer = Comparer(Store.current())
    shown = [p.step for p in the_plan.to_create]
    shown += [the_plan.steps[i].step for i in the_plan.roots if the_plan.steps[i].action == "load"]
    explanations = []
    seen = set()
    for step in shown:
        if step_id(step) not in seen:
            seen.add(step_id(step))
            explanations.append(explain(step, comparer=comparer))
    creates = len(the_plan.to_create)
    if args.json:
        out = {
            "to_create": creates,
            "cached": len(the_plan.steps) - creates,
            "steps": [{"name": names.get(e.step), **e.to_json()} for e in explanations],
        }
        print(json.dumps(out, indent=2, default=str))
        return 0
    print(f"plan: {creates} to create, {len(the_plan.steps) - creates} cached")
    for why in explanations:
        name = names.get(why.step)
        print(f"{why.step.short}{f' ({name})' if name else ''}: {why.status}")
        for reason in why.reasons:
            print(f"  {reason.kind}: {reason.message}")
            for n in reason.neighbours:
                print(f"    nearest {n.hash[:9]} ({n.at}), {n.distance} difference(s):")
                print("".join(f"      {c.kind:<8} {c.describe()}\n" for c in n.changes), end="")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from furu._cli import _find
    from furu._explain import diff

    result = diff(_find(args, args.a), _find(args, args.b))
    if args.json:
        print(json.dumps(result.to_json(), indent=2, default=str))
    else:
        print(result.describe())
    return 0
