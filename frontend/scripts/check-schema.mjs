// Fails when src/api/schema.d.ts is not what openapi-typescript makes of the server's committed
// openapi.json (the frontend's types drifted from the API): regenerate with `npm run typegen`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const here = import.meta.dirname;
const schema = join(here, "..", "..", "packages", "furu-server", "openapi.json");
const committed = join(here, "..", "src", "api", "schema.d.ts");
const dir = mkdtempSync(join(tmpdir(), "furu-typegen-"));
try {
  const fresh = join(dir, "schema.d.ts");
  const bin = join(here, "..", "node_modules", ".bin", "openapi-typescript");
  execFileSync(bin, [schema, "-o", fresh], { stdio: "pipe" });
  if (readFileSync(fresh, "utf8") !== readFileSync(committed, "utf8")) {
    console.error(
      "src/api/schema.d.ts is out of date with packages/furu-server/openapi.json: " +
        "run `npm run typegen` in frontend/ and commit the result.",
    );
    process.exit(1);
  }
  console.log("schema.d.ts matches openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
