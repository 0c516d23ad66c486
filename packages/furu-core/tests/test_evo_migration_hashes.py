"""`fields_hash` and declared migrations: the hashes a config had before a code change."""

from __future__ import annotations

import pytest

import furu
from furu._hashing import config_hash, fields_hash
from furu._migration import _OldIdentity, _undone, declarations


class Data(furu.Furu[int]):
    name: str = "mnist"

    def _create(self) -> int:
        return 1

    def _load(self) -> int:
        return 1


class Fit(furu.Furu[int]):
    data: Data
    lr: float = 0.1
    layers: tuple[int, ...] = (3, 4)

    def _create(self) -> int:
        return 1

    def _load(self) -> int:
        return 1


def test_fields_hash_is_the_hash_of_a_config_with_those_fields() -> None:
    fit = Fit(data=Data(), lr=0.3)
    values = {"data": fit.data, "lr": 0.3, "layers": (3, 4)}
    assert fields_hash(values) == config_hash(fit) == fit._furu_hash


def test_a_stand_in_identity_hashes_as_the_step_it_names() -> None:
    fit = Fit(data=Data(name="cifar"))
    stand_in = _OldIdentity(fit.data._furu_namespace, fit.data._furu_hash)
    values = {"data": stand_in, "lr": 0.1, "layers": (3, 4)}
    assert fields_hash(values) == fit._furu_hash


def test_fields_hash_names_an_unhashable_field() -> None:
    with pytest.raises(furu.FuruHashError, match=r"cannot hash Fit\.lr: "):
        fields_hash({"lr": object()}, root="Fit")


def test_undoing_declarations_newest_first() -> None:
    declared = (
        furu.FieldRemoved("dropout", value=0.5),
        furu.FieldRenamed(old="learning_rate", new="lr"),
        furu.FieldAdded("average", default=False),
    )
    now = {"lr": 0.1, "average": False}
    assert list(_undone(now, declared)) == [
        {"lr": 0.1},
        {"learning_rate": 0.1},
        {"learning_rate": 0.1, "dropout": 0.5},
    ]
    # A config whose added field is not the default did not exist before: nothing to undo.
    assert list(_undone({"lr": 0.1, "average": True}, declared)) == []


def test_declarations_naming_unknown_fields_are_refused() -> None:
    class Bad(furu.Furu[int]):
        lr: float = 0.1
        furu_migrations = (furu.FieldRenamed(old="rate", new="learning_rate"),)

    with pytest.raises(furu.FuruConfigError, match=r"names 'learning_rate', which is not a field"):
        declarations(Bad)

    class NotATuple(furu.Furu[int]):
        furu_migrations = "average"

    with pytest.raises(furu.FuruConfigError, match=r"must be a tuple of furu.FieldAdded"):
        declarations(NotATuple)
