"""Helpers for testing your own steps: a store per test, and stand-ins for dependencies.

```python notest
import furu.testing


def test_report_formats_the_accuracy(furu_store):  # the pytest plugin's fixture: a fresh store
    report = Report(model=Train(data=Dataset(name="imagenet")))
    with furu.testing.stub(report, "model", {"accuracy": 0.9}):  # Train is never computed
        assert report.load_or_create() == "accuracy: 90.0%"
```

- `isolated_store(root)`: point furu at a store of its own for a while, then restore every
  setting as it was. The pytest plugin that furu-core installs (`_furu_pytest_plugin`, loaded
  by pytest through its `pytest11` entry point `furu`) wraps it as the `furu_store` fixture.
- `stub(dep, result)` / `stub(step, "field.path", result)`: within the context,
  `load_or_create()`, `load_existing()` and `exists()` of that step (any instance with the same
  config) answer with `result`, computing nothing and touching no file; planning counts it as
  cached. A direct call of its `_load()` is not intercepted.

This module never imports pytest: unittest suites and scripts can use it too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from furu import _furu, _policy
from furu._errors import FuruConfigError
from furu._furu import Furu
from furu._settings import FURU_CONFIG

if TYPE_CHECKING:
    from furu._workspace import Store

__all__ = ["isolated_store", "step_at", "stub"]

_STORE_ENV = ("FURU_PATH", "FURU_VERSION_CONTROLLED_PATH")
_counting = threading.Lock()


@contextlib.contextmanager
def isolated_store(
    root: Path | str, *, version_controlled_root: Path | str | None = None
) -> Iterator[Store]:
    """Use the store at `root` in this process for a while, then restore everything.

    Inside, `FURU_CONFIG` points at `root` (and `version_controlled_root`, default
    `<root>/artifacts`), and so do `FURU_PATH` and `FURU_VERSION_CONTROLLED_PATH` in
    `os.environ`, for processes the test starts. Afterwards every `FURU_CONFIG` field and
    every `FURU_*` variable is as before (changes made inside are undone too), and so is the
    record of which steps `FURU_FORCE_RECOMPUTE` already recomputed in this process.

    Args:
        root: the store root (furu creates it when it first writes there).
        version_controlled_root: where `version_controlled=True` steps go.

    Yields:
        The store, a `furu.Store` (`.root`, `.step_dirs()`, `.find(...)`).
    """
    from furu._workspace import Store

    base = Path(root).expanduser().resolve()
    vc = (
        Path(version_controlled_root).expanduser().resolve()
        if version_controlled_root is not None
        else base / "artifacts"
    )
    saved = {f.name: getattr(FURU_CONFIG, f.name) for f in dataclasses.fields(FURU_CONFIG)}
    saved_env = {k: v for k, v in os.environ.items() if k.startswith("FURU_")}
    with _policy._recomputed_lock:
        recomputed = set(_policy._recomputed)
        _policy._recomputed.clear()
    FURU_CONFIG.base_root = base
    FURU_CONFIG.version_controlled_root = vc
    os.environ.update({"FURU_PATH": str(base), "FURU_VERSION_CONTROLLED_PATH": str(vc)})
    try:
        yield Store(base, version_controlled_root=vc)
    finally:
        for name, value in saved.items():
            setattr(FURU_CONFIG, name, value)
        for key in [k for k in os.environ if k.startswith("FURU_") and k not in saved_env]:
            del os.environ[key]
        os.environ.update(saved_env)
        with _policy._recomputed_lock:
            _policy._recomputed.clear()
            _policy._recomputed.update(recomputed)


@overload
def stub(step: Furu[Any], result: Any, /) -> contextlib.AbstractContextManager[Furu[Any]]: ...


@overload
def stub(
    step: Furu[Any], path: str, result: Any, /
) -> contextlib.AbstractContextManager[Furu[Any]]: ...


def stub(step: Furu[Any], *args: Any) -> contextlib.AbstractContextManager[Furu[Any]]:
    """Let `result` stand in for a step's result while the context is open.

    `stub(dep, result)` stands in for `dep`; `stub(step, "model.dataset", result)` for the
    step found at that field path inside `step` (the path as metadata names dependencies:
    attributes joined by `.`, `[0]` for an item of a list or tuple, `['key']` for a dict value,
    `_dependencies()[0]` for what `_dependencies()` returns). Any instance with the same config
    is stood in for, so a `_create` that builds its dependency itself is covered too.

    Inside, `load_or_create()` and `load_existing()` of that step return `result` and `exists()`
    is True, without computing, locking or touching a file; `furu.plan` counts it as cached.
    Contexts nest (the innermost wins) and belong to the thread or task that opened them: a
    batch's worker processes do not see them, so test a batch with `furu.InlineExecutor()`.

    Yields:
        The step stood in for.

    Raises:
        FuruConfigError: the path names no step inside `step` (the message lists those there
            are), or the arguments do not match either form.
    """
    if len(args) == 1:
        target, result = step, args[0]
    elif len(args) == 2 and isinstance(args[0], str):
        target, result = step_at(step, args[0]), args[1]
    else:
        raise FuruConfigError(
            f"stub() takes (step, result) or (step, 'field.path', result); got {len(args) + 1} "
            f"arguments ({', '.join(type(a).__name__ for a in (step, *args))})."
        )
    if not isinstance(target, Furu):
        raise FuruConfigError(
            f"stub() stands in for a furu step, and got {type(target).__qualname__} "
            f"{target!r}. Pass the dependency's instance, or its parent step and its field path."
        )
    return _stubbed(target, result)


@contextlib.contextmanager
def _stubbed(target: Furu[Any], result: Any) -> Iterator[Furu[Any]]:
    results = {**_furu._stub_results.get(), target._furu_identity(): result}
    token = _furu._stub_results.set(results)
    with _counting:
        _furu._stubbing += 1
    try:
        yield target
    finally:
        with _counting:
            _furu._stubbing -= 1
        _furu._stub_results.reset(token)


def step_at(step: Furu[Any], path: str) -> Furu[Any]:
    """The step at field path `path` inside `step` (e.g. `"model.dataset"`).

    Raises:
        FuruConfigError: no step sits at that path; the message lists the paths that hold one.
    """
    found = dict(_step_paths(step, "", ()))
    target = found.get(_normalised(path))
    if target is None:
        known = ", ".join(found) or "none: it holds no steps"
        raise FuruConfigError(
            f"{type(step).__qualname__} has no step at {path!r}. Steps inside it: {known}. "
            "Name one of these paths, or pass the dependency's instance: stub(dep, result)."
        )
    return target


def _step_paths(
    step: Furu[Any], prefix: str, above: tuple[tuple[str, str], ...]
) -> Iterator[tuple[str, Furu[Any]]]:
    from furu._dependencies import direct_dependencies

    chain = (*above, step._furu_identity())
    for where, dep in direct_dependencies(step):
        path = f"{prefix}.{where}" if prefix else where
        yield path, dep
        if dep._furu_identity() not in chain:  # `_dependencies()` may loop; planning says so
            yield from _step_paths(dep, path, chain)


def _normalised(path: str) -> str:
    """`a["k"]` names what `a['k']` names (metadata writes keys with repr())."""
    return re.sub(r'\["([^"\']*)"\]', r"['\1']", path.strip())
