import assert from "node:assert/strict";
import { sha256Hasher, sha256Hex, sha256HexSync } from "../../../shared/pipeline/sha256.ts";

Deno.test("sha256Hex() is lowercase hex of the bytes (the known vectors, as PostgreSQL's encode(sha256(x), 'hex'))", async () => {
  assert.equal(
    await sha256Hex(new Uint8Array()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("sha256HexSync() gives the same digest as sha256Hex()", async () => {
  for (const text of ["", "abc", "é😀".repeat(10_000)]) {
    const bytes = new TextEncoder().encode(text);
    assert.equal(sha256HexSync(bytes), await sha256Hex(bytes));
  }
});

Deno.test("sha256Hasher() fed part by part gives the digest of the whole", async () => {
  const bytes = new TextEncoder().encode("a results file, cut into parts anywhere\n".repeat(50));
  const h = sha256Hasher();
  for (let off = 0; off < bytes.length; off += 97) h.update(bytes.subarray(off, off + 97));
  assert.equal(h.hex(), await sha256Hex(bytes));
});
