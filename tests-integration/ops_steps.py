"""Steps for `test_cli_ops.py`: a chain `Raw` (version-controlled) <- `Clean` <- `Features` <-
`Model`, plus a second `Model` on the same features, so dependents have several levels."""

from __future__ import annotations

import furu


class Raw(furu.Furu[str], version_controlled=True):
    name: str = "raw"

    def _create(self) -> str:
        (self.furu_dir / "raw.txt").write_text(self.name, encoding="utf-8")
        return self.name

    def _load(self) -> str:
        return (self.furu_dir / "raw.txt").read_text(encoding="utf-8")


class Clean(furu.Furu[str]):
    raw: Raw = furu.chz.field(default_factory=Raw)

    def _create(self) -> str:
        return self._load()

    def _load(self) -> str:
        return f"clean({self.raw.load_or_create()})"


class Features(furu.Furu[str]):
    clean: Clean = furu.chz.field(default_factory=Clean)

    def _create(self) -> str:
        return self._load()

    def _load(self) -> str:
        return f"features({self.clean.load_or_create()})"


class Model(furu.Furu[str]):
    features: Features = furu.chz.field(default_factory=Features)
    lr: float = 0.1

    def _create(self) -> str:
        return self._load()

    def _load(self) -> str:
        return f"model({self.features.load_or_create()}, lr={self.lr})"


def build() -> dict[str, furu.Furu[str]]:
    """Create the chain and two models; return the steps by name."""
    steps: dict[str, furu.Furu[str]] = {
        "raw": Raw(),
        "clean": Clean(),
        "features": Features(),
        "model": Model(),
        "model2": Model(lr=0.5),
    }
    steps["model"].load_or_create()
    steps["model2"].load_or_create()
    return steps
