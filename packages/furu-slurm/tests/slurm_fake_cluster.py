"""A fake SLURM CLI's record of calls (the fixture that installs it is in conftest.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass
class FakeCluster:
    """`sbatch`, `sacct`, `scancel`, `srun` as scripts that log their calls (nothing runs)."""

    dir: Path

    def calls(self, tool: str) -> list[str]:
        path = self.dir / f"{tool}.calls"
        return path.read_text().splitlines() if path.exists() else []

    def set_sacct(self, text: str, rc: int = 0) -> None:
        (self.dir / "sacct.out").write_text(text)
        (self.dir / "sacct.rc").write_text(str(rc))

    def refuse_sbatch(self, message: str | None) -> None:
        """Make `sbatch` print `message` and fail (None: accept again)."""
        path = self.dir / "sbatch.refuse"
        if message is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(message + "\n")

    def scripts(self) -> list[str]:
        """The sbatch scripts submitted, in order."""
        return [Path(line.split()[-1]).read_text() for line in self.calls("sbatch")]
