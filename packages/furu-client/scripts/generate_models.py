"""Generate furu-client's models from furu-server's committed `openapi.json`.

```
python packages/furu-client/scripts/generate_models.py          # rewrite _models.py
python packages/furu-client/scripts/generate_models.py --check  # exit 1 when it is stale
```

The models are generated (datamodel-code-generator, then ruff) and committed; a test runs
`--check`, so a change to the API that is not regenerated fails CI.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[1]
SCHEMA = CLIENT.parent / "furu-server" / "openapi.json"
TARGET = CLIENT / "src" / "furu_client" / "_models.py"
HEADER = '''"""The API's models, generated from furu-server's `openapi.json`: do not edit by hand.

Regenerate with `python packages/furu-client/scripts/generate_models.py`.
"""

# ruff: noqa: E501
'''
OPTIONS = [
    "--input-file-type", "openapi",
    "--openapi-scopes", "schemas",
    "--output-model-type", "pydantic_v2.BaseModel",
    "--target-python-version", "3.11",
    "--use-annotated",
    "--use-standard-collections",
    "--use-union-operator",
    "--use-schema-description",
    "--use-subclass-enum",
    "--collapse-root-models",
    "--field-constraints",
    "--strict-nullable",
    "--use-double-quotes",
    "--disable-timestamp",
    "--set-default-enum-member",
    "--formatters", "builtin",
]  # fmt: skip


def generate() -> str:
    """The module's text, as it should be committed."""
    with tempfile.TemporaryDirectory(prefix="furu-client-models-") as tmp:
        out = Path(tmp) / "_models.py"
        subprocess.run(
            [sys.executable, "-m", "datamodel_code_generator", "--input", str(SCHEMA),
             "--output", str(out), *OPTIONS],
            check=True,
            capture_output=True,
        )  # fmt: skip
        body = out.read_text(encoding="utf-8")
        lines = body.splitlines()
        while lines and lines[0].startswith("#"):
            lines.pop(0)  # datamodel-codegen's own header names a temporary path
        out.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
        for args in (["check", "--fix", "--quiet", "--unsafe-fixes"], ["format", "--quiet"]):
            subprocess.run(
                [sys.executable, "-m", "ruff", *args, "--config", str(CLIENT.parents[1] / "pyproject.toml"), str(out)],
                check=False,
            )  # fmt: skip
        return out.read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if _models.py is stale")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(
                f"{TARGET} is out of date with {SCHEMA}. Regenerate it: "
                "python packages/furu-client/scripts/generate_models.py",
                file=sys.stderr,
            )
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
