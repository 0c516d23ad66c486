"""Tests of furu._hashing: golden digests, invariances, distinctness and error messages.

Run `python packages/furu-core/tests/test_hashing.py --record` to rewrite golden_hashes.json
(only when a hash change is intended: it orphans every stored artifact), or `--print` to print
the current digests of the corpus as JSON.
"""

from __future__ import annotations

import collections
import copy
import hashlib
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
from array import array
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN = HERE / "golden_hashes.json"
if importlib.util.find_spec("furu") is None:  # no editable install: use the source tree
    sys.path.insert(0, str(HERE.parent / "src"))

from furu._errors import FuruHashError  # noqa: E402
from furu._hashing import HASH_LENGTH, HASH_SCHEME, config_hash, encode_config  # noqa: E402


def _load_corpus() -> ModuleType:
    """Import hashing_corpus.py under its fixed name (its qualnames are in the golden hashes)."""
    module = sys.modules.get("hashing_corpus")
    if module is None:
        spec = importlib.util.spec_from_file_location("hashing_corpus", HERE / "hashing_corpus.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["hashing_corpus"] = module
        spec.loader.exec_module(module)
    return module


corpus = _load_corpus()
Holder = corpus.Holder


def h(value: Any) -> str:
    return config_hash(Holder(value=value))


def corpus_hashes() -> dict[str, str]:
    return {name: config_hash(obj) for name, obj in corpus.cases().items()}


# ---------------------------------------------------------------- golden corpus


RERECORD = (
    "If (and only if) this change is intended, re-record with "
    "`python packages/furu-core/tests/test_hashing.py --record` and bump HASH_SCHEME: "
    "every artifact stored under the old hash is orphaned (its directory is never found again)."
)


def test_corpus_is_large_enough() -> None:
    assert len(corpus.cases()) >= 45


def test_golden_hashes_unchanged() -> None:
    golden = json.loads(GOLDEN.read_text())
    current = corpus_hashes()
    missing = sorted(set(current) - set(golden))
    assert not missing, f"no golden hash recorded for cases {missing}; run with --record"
    stale = sorted(set(golden) - set(current))
    assert not stale, f"golden cases {stale} are no longer in hashing_corpus.cases()"
    for name, digest in current.items():
        assert digest == golden[name], (
            f"the config hash of golden case {name!r} changed: "
            f"{golden[name]} -> {digest}. {RERECORD}"
        )


def test_hash_format_and_scheme_prefix() -> None:
    obj = corpus.Scalars()
    digest = config_hash(obj)
    assert len(digest) == HASH_LENGTH == 20
    assert digest == digest.lower()
    int(digest, 16)
    stream = encode_config(obj)
    assert stream.startswith(b"S" + bytes([len(HASH_SCHEME)]) + HASH_SCHEME.encode())
    assert hashlib.sha256(stream).hexdigest()[:HASH_LENGTH] == digest


def _value_bytes(value: Any) -> bytes:
    """The encoding of `value` alone: the stream of Holder(value=...) minus its fixed header."""
    header = b"S" + bytes([len(HASH_SCHEME)]) + HASH_SCHEME.encode() + b"R\x01S\x05value"
    stream = encode_config(Holder(value=value))
    assert stream.startswith(header)
    return stream[len(header) :]


def test_wire_format_examples() -> None:
    assert _value_bytes(None) == b"N"
    assert _value_bytes(True) == b"B\x01"
    assert _value_bytes(0) == b"I\x01\x00"
    assert _value_bytes(-1) == b"I\x01\xff"
    assert _value_bytes(128) == b"I\x02\x80\x00"
    assert _value_bytes(2**200) == b"I\x1a" + (2**200).to_bytes(26, "little", signed=True)
    assert _value_bytes(-0.0) == b"D" + bytes(8)
    assert _value_bytes(float("-nan")) == b"D\x00\x00\x00\x00\x00\x00\xf8\x7f"
    assert _value_bytes("é" * 100) == b"S\xc8\x01" + "é".encode() * 100
    assert _value_bytes(["a", None]) == b"L\x02S\x01aN"
    assert _value_bytes(("a",)) == b"U\x01S\x01a"
    assert _value_bytes({"b": 1, "a": None}) == b"M\x02S\x01aNS\x01bI\x01\x01"
    assert _value_bytes({2, 1}) == b"E\x02I\x01\x01I\x01\x02"
    step = corpus.FakeStep("ns", "abc")
    assert _value_bytes(step) == b"FS\x02nsS\x03abc"


def test_packed_lists_wire_format() -> None:
    floats = [1e308, 1e308, -1e308, -0.0]  # the sum overflows: takes the canonicalising branch
    expected = array("d", [1e308, 1e308, -1e308, 0.0]).tobytes()
    assert _value_bytes(floats) == b"PLd\x04" + expected
    assert _value_bytes((1, -2)) == b"PUq\x02" + array("q", [1, -2]).tobytes()
    assert _value_bytes([1, 2**64])[:1] == b"L"


def test_streaming_matches_encode_config_for_large_payloads() -> None:
    for value in [np.arange(100_000.0), [0.5] * 50_000, "y" * 200_000, b"z" * 100_000]:
        expected = hashlib.sha256(encode_config(Holder(value=value))).hexdigest()[:HASH_LENGTH]
        assert h(value) == expected


# ---------------------------------------------------------------- invariance


def test_dict_insertion_order_does_not_matter() -> None:
    items = [(3, "c"), ("b", 2), ((1, 2), None), (None, [1.5]), (2.5, {"x": 1})]
    assert h(dict(items)) == h(dict(reversed(items))) == h(dict(sorted(items, key=repr)))


def test_set_iteration_order_does_not_matter() -> None:
    words = [f"word{i}" for i in range(50)]
    assert h(set(words)) == h(set(reversed(words))) == h(frozenset(words))


def test_distinct_keys_with_equal_encodings_are_ordered_by_value() -> None:
    nan_a, nan_b = float("nan"), float("nan")  # distinct dict keys, identical encodings
    assert h({nan_a: 1, nan_b: 2}) == h({nan_b: 2, nan_a: 1})
    assert h({nan_a: 1, nan_b: 2}) != h({nan_a: 1, nan_b: 3})


def test_subclasses_encode_as_their_base_type() -> None:
    class MyInt(int):
        pass

    class MyStr(str):
        pass

    pair = collections.namedtuple("pair", "a b")
    assert h(MyInt(5)) == h(5)
    assert h(MyStr("x")) == h("x")
    assert h(collections.OrderedDict(b=1, a=2)) == h({"a": 2, "b": 1})
    assert h(collections.defaultdict(list, {"a": [1]})) == h({"a": [1]})
    assert h(pair(1, "b")) == h((1, "b"))
    assert h(corpus.Level.HIGH) != h(2)
    assert h(corpus.Color.RED) != h("red")


def test_same_hashes_across_processes_with_different_hash_seeds() -> None:
    expected = corpus_hashes()
    for seed in ["0", "1", "random"]:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        cmd = [sys.executable, str(HERE / "test_hashing.py"), "--print"]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        assert json.loads(out) == expected, f"hashes differ with PYTHONHASHSEED={seed}"


def test_top_level_class_name_is_not_hashed() -> None:
    assert h([1, 2]) == config_hash(corpus.HolderCopy(value=[1, 2]))


def test_equal_values_with_equal_python_semantics_hash_equal() -> None:
    assert h(-0.0) == h(0.0)
    assert h([-0.0, 1.0]) == h([0.0, 1.0])
    assert h(float("nan")) == h(corpus.NEGATIVE_NAN)
    assert h([float("nan")]) == h([corpus.NEGATIVE_NAN])
    assert h({1, 2}) == h(frozenset({1, 2}))
    assert h(b"ab") == h(bytearray(b"ab")) == h(memoryview(b"ab"))
    assert h(pathlib.PurePosixPath("a/b")) == h(pathlib.Path("a/b"))


def test_numpy_layout_does_not_matter() -> None:
    grid = np.arange(24, dtype=np.float64).reshape(4, 6)
    assert h(grid[:, ::2]) == h(np.ascontiguousarray(grid[:, ::2]))
    assert h(np.asfortranarray(grid)) == h(grid.copy())
    assert h(grid.T) == h(grid.T.copy())


def test_hashing_does_not_import_numpy() -> None:
    code = "import sys, furu._hashing; print('numpy' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def _reordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reordered(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=25,
)


@settings(database=None, deadline=None, max_examples=150)
@given(json_like)
def test_hash_stable_under_deepcopy_and_dict_reordering(value: Any) -> None:
    digest = h(value)
    assert digest == h(copy.deepcopy(value))
    assert digest == h(_reordered(value))


# ---------------------------------------------------------------- distinctness


def test_list_and_tuple_differ() -> None:
    assert h([1, 2]) != h((1, 2))
    assert h([0.5, 0.25]) != h((0.5, 0.25))
    assert h(["a"]) != h(("a",))
    assert h([]) != h(())
    assert corpus_hashes()["list_mixed"] != corpus_hashes()["tuple_mixed"]


def test_scalar_types_are_distinct() -> None:
    digests = [h(1), h(True), h(1.0), h("1"), h(b"1"), h(complex(1, 0)), h(np.int64(1))]
    assert len(set(digests)) == len(digests)
    assert h(0) != h(False) != h(None)


def test_empty_containers_are_distinct() -> None:
    digests = [h({}), h([]), h(()), h(set()), h(""), h(b""), h(None)]
    assert len(set(digests)) == len(digests)


def test_step_namespace_and_hash_matter() -> None:
    base = h(corpus.FakeStep("pipeline.A", corpus.STEP_HASH))
    assert base != h(corpus.FakeStep("pipeline.B", corpus.STEP_HASH))
    assert base != h(corpus.FakeStep("pipeline.A", "f" * 20))
    assert base != h(("pipeline.A", corpus.STEP_HASH))


def test_field_name_matters() -> None:
    assert h(1) != config_hash(corpus.Renamed(other=1))


def test_nested_chz_class_name_matters() -> None:
    nested = corpus.Holder(value=2)
    assert h(nested) != h(corpus.HolderCopy(value=2))


def test_packed_and_elementwise_lists_are_distinct() -> None:
    assert h([1.0, 2.0]) != h([1.0, 2])
    assert h([1, 2]) != h([1, True])
    assert h([1, 2**64]) != h([1, 2**63 - 1])


# ---------------------------------------------------------------- errors


def _hash_error(obj: object) -> FuruHashError:
    with pytest.raises(FuruHashError) as info:
        config_hash(obj)
    return info.value


def test_lambda_in_nested_tuple_names_path_and_type() -> None:
    obj = corpus.TrainModel(optimizer=corpus.Optimizer(betas=(0.9, lambda: 0.999)))
    err = _hash_error(obj)
    assert err.path == "TrainModel.optimizer.betas[1]"
    assert err.type_name == "builtins.function"
    message = str(err)
    assert message.startswith(
        "cannot hash TrainModel.optimizer.betas[1]: unsupported type builtins.function "
        "(value <function test_lambda_in_nested_tuple_names_path_and_type."
    )
    assert message.endswith(
        "). Use a supported type (None, bool, int, float, complex, str, bytes, list, tuple, "
        "dict, set, frozenset, Enum, pathlib paths, datetime/date/time/timedelta, Decimal, "
        "Fraction, UUID, type, numpy arrays/scalars, chz objects and furu steps) or give the "
        "type a __furu_encode__() method returning a supported value"
    )


def test_file_object_in_dict_names_path_and_type(tmp_path: pathlib.Path) -> None:
    with open(tmp_path / "f.txt", "w") as handle:
        err = _hash_error(corpus.TrainModel(optimizer=corpus.Optimizer(), mapping={"a": handle}))
    assert err.path == "TrainModel.mapping['a']"
    assert err.type_name == "_io.TextIOWrapper"
    assert "cannot hash TrainModel.mapping['a']: unsupported type _io.TextIOWrapper" in str(err)


class Plain:
    pass


def test_arbitrary_instance_in_list_names_path_and_type() -> None:
    err = _hash_error(Holder(value={"k": [1, Plain()]}))
    type_name = f"{Plain.__module__}.Plain"
    assert err.path == "Holder.value['k'][1]"
    assert err.type_name == type_name
    assert f"cannot hash Holder.value['k'][1]: unsupported type {type_name} (value <" in str(err)


def test_unsupported_dict_key_and_set_element() -> None:
    err = _hash_error(Holder(value={Plain: 1, Plain(): 2}))
    assert err.path.startswith("Holder.value.<key <")
    err = _hash_error(Holder(value=frozenset({Plain()})))
    assert err.path == "Holder.value{...}"


def test_self_containing_list_raises_with_path() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    err = _hash_error(Holder(value={"loop": loop}))
    assert err.path == "Holder.value['loop'][1]"
    assert "cycle" in str(err)


def test_furu_encode_returning_self_raises() -> None:
    class Selfish:
        def __furu_encode__(self) -> object:
            return self

    err = _hash_error(Holder(value=[Selfish()]))
    assert err.path == "Holder.value[0].__furu_encode__()"
    assert "cycle" in str(err)


def test_bad_furu_identity_raises() -> None:
    class BadStep:
        def _furu_identity(self) -> object:
            return ("ns",)

    err = _hash_error(Holder(value=BadStep()))
    assert err.path == "Holder.value"
    assert "expected a (namespace, hash) tuple of str" in str(err)


def test_structured_numpy_dtype_raises() -> None:
    arr = np.zeros(2, dtype=[("a", "i4"), ("b", "f8")])
    err = _hash_error(Holder(value=arr))
    assert "structured numpy dtype" in str(err)


def test_object_array_with_unsupported_element_names_index() -> None:
    arr = np.array([[1, 2], [3, Plain()]], dtype=object)
    assert _hash_error(Holder(value=arr)).path == "Holder.value[1, 1]"


def test_non_chz_top_level_raises() -> None:
    with pytest.raises(FuruHashError, match="expects a chz object"):
        config_hash({"a": 1})
    with pytest.raises(FuruHashError, match="expects a chz object"):
        config_hash(Holder)


# ---------------------------------------------------------------- recording


def _main(argv: list[str]) -> None:
    hashes = corpus_hashes()
    if argv == ["--record"]:
        GOLDEN.write_text(json.dumps(hashes, indent=2, sort_keys=True) + "\n")
        print(f"recorded {len(hashes)} golden hashes in {GOLDEN}")
    elif argv == ["--print"]:
        print(json.dumps(hashes, sort_keys=True))
    else:
        sys.exit(f"usage: {sys.argv[0]} --record | --print")


if __name__ == "__main__":
    _main(sys.argv[1:])
