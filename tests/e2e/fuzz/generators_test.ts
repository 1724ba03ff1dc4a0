/**
 * The fuzz generators themselves (tests/support/fuzz.ts): a seed must replay byte for byte, streams must be
 * independent, and what they produce must be sendable by a real client. No stack needed.
 */
import assert from "node:assert/strict";
import {
  deriveSeed,
  fuzzSeed,
  headerValue,
  invalidUtf8,
  nearMissUuid,
  percentEncode,
  randomJson,
  Rng,
  traversalId,
} from "../../support/fuzz.ts";

const env = (vars: Record<string, string>) => ({ get: (k: string) => vars[k] });

Deno.test("Rng replays the same sequence for the same seed and a different one for another seed", () => {
  const draw = (seed: number) => {
    const rng = new Rng(seed);
    return [rng.u32(), rng.int(0, 1000), JSON.stringify(randomJson(rng)), rng.uuid(), traversalId(rng)];
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
});

Deno.test("Rng.fork() streams depend on the label, not on how much the parent stream was used", () => {
  const a = new Rng(7);
  const b = new Rng(7);
  b.u32();
  b.u32();
  assert.equal(a.fork("generate").u32(), b.fork("generate").u32());
  assert.notEqual(a.fork("generate").u32(), a.fork("parse").u32());
  assert.equal(deriveSeed(7, "x"), deriveSeed(7, "x"));
});

Deno.test("Rng.int() stays within its bounds and reaches both ends", () => {
  const rng = new Rng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const n = rng.int(-2, 2);
    assert.ok(n >= -2 && n <= 2);
    seen.add(n);
  }
  assert.deepEqual([...seen].sort(), [-1, -2, 0, 1, 2].sort());
});

Deno.test("Rng.uuid() is a version-4 uuid", () => {
  const rng = new Rng(3);
  for (let i = 0; i < 100; i++) {
    assert.match(rng.uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
});

Deno.test("fuzzSeed() reads FUZZ_SEED in decimal or hex and refuses anything else", () => {
  assert.equal(fuzzSeed(env({ FUZZ_SEED: "12345" })), 12345);
  assert.equal(fuzzSeed(env({ FUZZ_SEED: "0xff" })), 255);
  assert.throws(() => fuzzSeed(env({ FUZZ_SEED: "abc" })), /FUZZ_SEED/);
  assert.ok(Number.isInteger(fuzzSeed(env({}))));
});

Deno.test("nearMissUuid() never yields a well-formed uuid", () => {
  const rng = new Rng(11);
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  for (let i = 0; i < 2000; i++) assert.doesNotMatch(nearMissUuid(rng), uuid);
});

Deno.test("headerValue() keeps what HTTP can carry: UTF-8 as Latin-1, no control bytes but tab, trimmed", () => {
  assert.equal(headerValue("é"), "\u00c3\u00a9");
  assert.equal(headerValue(" a\u0000b\r\nc\u0007d\u007f\te "), "abcd\te");
  for (const s of ["\ud800", "\u202e", "\u{1f600}"]) {
    assert.doesNotThrow(() => new Headers({ "x-test": headerValue(s) }), `sendable: ${JSON.stringify(s)}`);
  }
});

Deno.test("percentEncode() encodes every byte outside the unreserved set and survives lone surrogates", () => {
  assert.equal(percentEncode("a b/ü"), "a%20b%2F%C3%BC");
  assert.equal(percentEncode("\ud800"), "%EF%BF%BD");
  assert.equal(percentEncode("..-_~"), "..-_~");
});

Deno.test("invalidUtf8() is refused by a strict UTF-8 decoder", () => {
  const rng = new Rng(5);
  for (let i = 0; i < 50; i++) {
    assert.throws(() => new TextDecoder("utf-8", { fatal: true }).decode(invalidUtf8(rng)));
  }
});
