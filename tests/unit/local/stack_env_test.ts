/**
 * local/stack_env.ts: the one reader of `stack.env.json`. A usable file reads back as written; a missing file
 * says how to start the stack; a file with bad fields names them (no `undefined` URL reaching a client).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  readStackEnv,
  type StackEnv,
  stackEnvPath,
  tryReadStackEnv,
  writeStackEnv,
} from "../../../local/stack_env.ts";

const ENV: StackEnv = {
  SUPABASE_URL: "http://127.0.0.1:54321",
  SUPABASE_ANON_KEY: "anon",
  SUPABASE_SERVICE_ROLE_KEY: "service",
  SUPABASE_PUBLISHABLE_KEY: "sb_publishable_x",
  SUPABASE_SECRET_KEY: "sb_secret_x",
  SUPABASE_DB_URL: "postgresql://postgres:postgres@127.0.0.1:54322/postgres",
  SUPABASE_JWT_SECRET: "x".repeat(40),
  ANTHROPIC_BASE_URL: "http://127.0.0.1:54330",
};

Deno.test("writeStackEnv() then readStackEnv() round-trips the settings in the given folder", () => {
  const dir = Deno.makeTempDirSync();
  try {
    writeStackEnv(ENV, dir);
    assert.equal(stackEnvPath(dir), join(dir, "stack.env.json"));
    assert.deepEqual(readStackEnv(dir), ENV);
    assert.deepEqual(tryReadStackEnv(dir), ENV);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readStackEnv() on a folder without the file says to start the stack; tryReadStackEnv() is null", () => {
  const dir = Deno.makeTempDirSync();
  try {
    assert.throws(() => readStackEnv(dir), /Cannot read the local stack's settings .*deno task stack:start/);
    assert.equal(tryReadStackEnv(dir), null);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readStackEnv() names the bad fields of a file that does not match the schema", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const { SUPABASE_DB_URL: _dropped, ...rest } = ENV;
    Deno.writeTextFileSync(stackEnvPath(dir), JSON.stringify({ ...rest, SUPABASE_URL: "not a url" }));
    assert.throws(() => readStackEnv(dir), (err: Error) => {
      assert.match(err.message, /SUPABASE_URL/);
      assert.match(err.message, /SUPABASE_DB_URL/);
      return true;
    });
    assert.equal(tryReadStackEnv(dir), null);
    Deno.writeTextFileSync(stackEnvPath(dir), "{ not json");
    assert.equal(tryReadStackEnv(dir), null);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("writeStackEnv() refuses settings the readers would refuse (short JWT secret), writing nothing", () => {
  const dir = Deno.makeTempDirSync();
  try {
    assert.throws(() => writeStackEnv({ ...ENV, SUPABASE_JWT_SECRET: "short" }, dir));
    assert.equal(tryReadStackEnv(dir), null);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
