"""Golden corpus for `test_hashing.py`: configs whose hashes are recorded in golden_hashes.json.

The module name `hashing_corpus` and the qualnames of its classes and enums are part of the
golden hashes of every case that nests them (nested chz objects, enums, type objects and
`__furu_encode__` hooks encode their `module.qualname`).  Never rename them; add new cases
instead of editing old ones.  `test_hashing.py` loads this file under the fixed module name
`hashing_corpus` whatever pytest's import mode is.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import fractions
import pathlib
import struct
import uuid
from typing import Any

import chz
import numpy as np


class Color(enum.StrEnum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Perm(enum.Flag):
    READ = 1
    WRITE = 2


@chz.chz
class Holder:
    value: Any = None


@chz.chz
class HolderCopy:
    """Same fields as `Holder`: top-level class names are not hashed, so hashes are equal."""

    value: Any = None


@chz.chz
class Renamed:
    """Like `Holder` with another field name: hashes differ."""

    other: Any = None


@chz.chz
class Scalars:
    """Ten scalar fields, the shape of a typical small config."""

    name: str = "resnet"
    seed: int = 0
    lr: float = 3e-4
    weight_decay: float = 0.01
    epochs: int = 90
    batch_size: int = 256
    use_amp: bool = True
    dropout: float = 0.1
    optimizer: str = "adamw"
    notes: str | None = None


@chz.chz
class Optimizer:
    name: str = "adam"
    lr: float = 1e-3
    betas: tuple[Any, ...] = (0.9, 0.999)


@chz.chz
class TrainModel:
    optimizer: Optimizer
    epochs: int = 10
    mapping: dict[Any, Any] = chz.field(default_factory=dict)


class FakeStep:
    """Stands in for a furu step: contributes only its (namespace, hash) identity."""

    def __init__(self, namespace: str, digest: str) -> None:
        self.namespace = namespace
        self.digest = digest

    def _furu_identity(self) -> tuple[str, str]:
        return (self.namespace, self.digest)


@chz.chz
class ChzStep:
    """A chz object that is also a step: the step identity wins over its fields."""

    seed: int = 0

    def _furu_identity(self) -> tuple[str, str]:
        return ("hashing_corpus.ChzStep", f"{self.seed:020d}")


class Interval:
    """A user type made hashable through the `__furu_encode__` extension hook."""

    def __init__(self, lo: float, hi: float) -> None:
        self.lo = lo
        self.hi = hi

    def __furu_encode__(self) -> dict[str, float]:
        return {"lo": self.lo, "hi": self.hi}


NEGATIVE_NAN: float = struct.unpack("<d", struct.pack("<Q", 0xFFF8_0000_0000_0001))[0]
STEP_HASH = "0123456789abcdef0123"


def _h(value: Any) -> Holder:
    return Holder(value=value)


def _numpy_cases() -> dict[str, object]:
    grid = np.arange(12, dtype=np.float64).reshape(3, 4)
    return {
        "np_float32_1d": _h(np.linspace(0, 1, 7, dtype=np.float32)),
        "np_int64_1d": _h(np.arange(-5, 5, dtype=np.int64)),
        "np_bool": _h(np.array([True, False, True])),
        "np_float64_2d": _h(grid),
        "np_noncontiguous": _h(grid[:, ::2]),
        "np_fortran": _h(np.asfortranarray(grid)),
        "np_zero_d": _h(np.array(2.5)),
        "np_empty": _h(np.zeros((0, 3), dtype=np.int32)),
        "np_datetime64": _h(np.array(["2024-01-01", "2024-02-29"], dtype="datetime64[D]")),
        "np_object": _h(np.array([1, "a", None], dtype=object)),
        "np_scalars": _h([np.float32(1.5), np.int64(7), np.bool_(True), np.float64(0.5)]),
    }


def _scalar_cases() -> dict[str, object]:
    return {
        "scalars_default": Scalars(),
        "scalars_changed": Scalars(seed=1, notes="second run"),
        "none": _h(None),
        "bool_true": _h(True),
        "bool_false": _h(False),
        "int_zero": _h(0),
        "int_one": _h(1),
        "int_negative": _h(-1),
        "int_int64_max": _h(2**63 - 1),
        "int_huge": _h(2**200 + 17),
        "int_huge_negative": _h(-(2**200) - 12345),
        "float_one": _h(1.0),
        "float_tenth": _h(0.1),
        "float_tiny": _h(1e-300),
        "float_subnormal": _h(5e-324),
        "float_zero": _h(0.0),
        "float_negative_zero": _h(-0.0),
        "float_inf": _h(float("inf")),
        "float_negative_inf": _h(float("-inf")),
        "float_nan": _h(float("nan")),
        "float_nan_payload": _h(NEGATIVE_NAN),
        "complex": _h(complex(1.5, -2.0)),
        "str_empty": _h(""),
        "str_one": _h("1"),
        "str_emoji": _h("🚀 furu 🍣"),
        "str_combining": _h("e\u0301"),
        "str_precomposed": _h("\u00e9"),
        "str_long": _h("x" * 1000),
        "bytes": _h(b"\x00\xffabc"),
        "bytearray": _h(bytearray(b"\x00\xffabc")),
    }


def _container_cases() -> dict[str, object]:
    return {
        "list_mixed": _h([1, "a", None, 2.5, True]),
        "tuple_mixed": _h((1, "a", None, 2.5, True)),
        "list_empty": _h([]),
        "tuple_empty": _h(()),
        "dict_empty": _h({}),
        "set_empty": _h(set()),
        "set_strings": _h({"alpha", "beta", "gamma", "delta", "epsilon"}),
        "frozenset_ints": _h(frozenset({3, 1, 2, -7})),
        "frozenset_strings": _h(frozenset({"alpha", "beta", "gamma", "delta", "epsilon"})),
        "dict_str_keys": _h({"b": 2, "a": 1, "c": [3]}),
        "dict_int_keys": _h({2: "b", 1: "a", -5: "c"}),
        "dict_tuple_keys": _h({(1, 2): "x", (0, "a"): "y"}),
        "dict_mixed_keys": _h({1: "int", "1": "str", 1.5: "float", None: "none", (1,): "tuple"}),
        "deeply_nested": _h([[[[{"a": ({"b": [1, 2, frozenset({3})]},)}]]]]),
        "float_list": _h([i * 0.1 for i in range(100)] + [-0.0]),
        "float_list_nan_inf": _h([1.0, float("nan"), float("inf"), -0.0, NEGATIVE_NAN]),
        "float_list_sum_overflows": _h([1e308, 1e308, -1e308]),
        "float_tuple": _h((0.25, 0.5)),
        "int_list_int64": _h([*range(-50, 50), 2**63 - 1, -(2**63)]),
        "int_list_beyond_int64": _h([1, 2**64, 3]),
    }


def _object_cases() -> dict[str, object]:
    tz = dt.timezone(dt.timedelta(hours=2))
    return {
        "nested_chz": TrainModel(optimizer=Optimizer()),
        "nested_chz_changed": TrainModel(optimizer=Optimizer(lr=0.01), mapping={"a": 1}),
        "nested_step": _h(FakeStep("pipeline.Prepare", STEP_HASH)),
        "nested_step_other_namespace": _h(FakeStep("pipeline.Other", STEP_HASH)),
        "nested_chz_step": _h(ChzStep(seed=3)),
        "steps_in_list": _h([FakeStep("pipeline.A", STEP_HASH), FakeStep("pipeline.B", STEP_HASH)]),
        "enum_str": _h(Color.RED),
        "enum_int": _h(Level.HIGH),
        "enum_flag": _h(Perm.READ | Perm.WRITE),
        "path_relative": _h(pathlib.PurePosixPath("data/train.csv")),
        "path_absolute": _h(pathlib.Path("/srv/data/train.csv")),
        "datetime_naive": _h(dt.datetime(2024, 2, 29, 12, 30, 15, 123456)),
        "datetime_aware": _h(dt.datetime(2024, 2, 29, 12, 30, 15, tzinfo=tz)),
        "datetime_utc": _h(dt.datetime(2024, 2, 29, 10, 30, 15, tzinfo=dt.UTC)),
        "date": _h(dt.date(2024, 2, 29)),
        "time": _h(dt.time(23, 59, 58, 1)),
        "timedelta": _h(dt.timedelta(days=-1, seconds=5, microseconds=7)),
        "decimal": _h(decimal.Decimal("3.14159265358979323846264338327950288")),
        "fraction": _h(fractions.Fraction(1, 3)),
        "uuid": _h(uuid.UUID("12345678-1234-5678-1234-567812345678")),
        "type_objects": _h([int, Optimizer, Color]),
        "furu_encode_hook": _h(Interval(0.0, 1.5)),
    }


def cases() -> dict[str, object]:
    """Every golden case, by name."""
    return {**_scalar_cases(), **_container_cases(), **_object_cases(), **_numpy_cases()}
