import assert from "node:assert/strict";
import { cliDbUrl } from "../../../local/paths.ts";

const cases: ReadonlyArray<[string, string]> = [
  ["postgresql://u:p@h:1/db", "postgresql://u:p@h:1/db?sslmode=disable"],
  [
    "postgresql://u:p@h:1/db?application_name=x",
    "postgresql://u:p@h:1/db?application_name=x&sslmode=disable",
  ],
  ["postgresql://u:p@h:1/db?sslmode=require", "postgresql://u:p@h:1/db?sslmode=require"],
];

for (const [input, want] of cases) {
  Deno.test(`cliDbUrl() turns ${input} into ${want}`, () => {
    assert.equal(cliDbUrl(input), want);
  });
}
