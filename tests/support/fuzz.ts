/**
 * A seeded random source and generators of hostile input, for the bad-input suite (tests/e2e/fuzz/) and any test
 * that wants reproducible randomness.
 *
 *   fuzzSeed()             the run's seed: FUZZ_SEED (decimal or 0x-hex) when set, else a fresh random one
 *   new Rng(seed)          sfc32: fast, 128-bit state, good enough statistics for test input (not for crypto)
 *   rng.fork(label)        an independent stream per label, so one endpoint's cases replay alone and adding a
 *                          generator to one endpoint does not shift every other endpoint's cases
 *   randomJson, nastyString, unicodeString, traversalId, nearMissUuid, invalidJsonText, invalidUtf8,
 *   oversizedText, deepJson, headerValue   the generators
 *
 * Everything here is pure and deterministic for a given seed: the same FUZZ_SEED gives byte-identical cases.
 */

/** The run's seed. Print it with every failure so the run can be replayed with FUZZ_SEED=<seed>. */
export function fuzzSeed(env: { get(name: string): string | undefined } = Deno.env): number {
  const raw = env.get("FUZZ_SEED")?.trim();
  if (raw) {
    const n = raw.toLowerCase().startsWith("0x") ? parseInt(raw.slice(2), 16) : Number(raw);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new Error(`Cannot use FUZZ_SEED="${raw}": it must be a non-negative integer (decimal or 0x-hex)`);
    }
    return n >>> 0;
  }
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** FNV-1a over a label, mixed into a seed: the seed of a labelled sub-stream. */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(readonly seed: number) {
    // splitmix32 spreads one 32-bit seed over sfc32's four words; 12 warm-up rounds discard the start.
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer (sfc32). */
  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Cannot pick from an empty list");
    return items[Math.floor(this.next() * items.length)];
  }

  /** Picks by weight: `[[3, "a"], [1, "b"]]` gives "a" three times as often as "b". */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of choices) {
      r -= w;
      if (r < 0) return v;
    }
    return choices[choices.length - 1][1];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A version-4 shaped uuid drawn from this stream (lower case). */
  uuid(): string {
    const b = this.bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** An independent stream for `label` (see deriveSeed). */
  fork(label: string): Rng {
    return new Rng(deriveSeed(this.seed, label));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------------------------

/** Characters that break naive code: NUL, controls, lone surrogates, bidi overrides, zero-width, BOM, astral. */
export const NASTY_CHARS: readonly string[] = [
  "\u0000",
  "\u0001",
  "\u0007",
  "\b",
  "\t",
  "\n",
  "\r",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\ud800", // lone high surrogate
  "\udfff", // lone low surrogate
  "\udc00\ud800", // reversed pair
  "\u202e", // right-to-left override
  "\u202d",
  "\u200f", // right-to-left mark
  "\u2066",
  "\u200b", // zero-width space
  "\u200d",
  "\u2028",
  "\u2029",
  "\ufeff", // BOM
  "\ufffd",
  "\uffff",
  "\u0301", // combining acute
  "\u{1f600}",
  "\u{10ffff}",
  "\u{e0001}", // language tag
  "ǅ",
  "ﬃ",
  "İ",
  "\u0130",
  "\uff10", // fullwidth digit zero
  "\u0660", // Arabic-Indic digit zero
  "\u05d0", // Hebrew alef
  "\u0627", // Arabic alef
  "𝟘",
];

/** Whole strings that have broken parsers, routers, SQL and templates somewhere. */
export const NASTY_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-0",
  "true",
  "[]",
  "{}",
  "0x41",
  "1e309",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "' OR '1'='1",
  "'; drop table public.conversations; --",
  "\\",
  "\\\\",
  "%",
  "%%",
  "_",
  "%00",
  "%s%s%s%n",
  "{{7*7}}",
  "${7*7}",
  "${jndi:ldap://x/a}",
  "<script>alert(1)</script>",
  "\r\nx-injected: 1",
  "a\u0000b",
  "\u202egnp.exe",
  "\ufeff{}",
  "раw", // Cyrillic "ра"
  "ＲＡＷ",
  "../../../../etc/passwd",
  "..\\..\\windows\\win.ini",
  "/etc/passwd",
  "file:///etc/passwd",
  "http://169.254.169.254/latest/meta-data/",
  "raw/../../",
  "conversation-files/raw/",
];

/** Fragments that look like path traversal once decoded once, twice, or by a lenient server. */
const TRAVERSAL_PARTS: readonly string[] = [
  "..",
  "../",
  "..%2f",
  "..%2F",
  "%2e%2e",
  "%2E%2E",
  "%2e%2e%2f",
  "%2e%2e/",
  ".%2e",
  "%2e.",
  "..%252f",
  "%252e%252e",
  "..%5c",
  "..\\",
  "....//",
  "..;",
  "%c0%ae%c0%ae",
  "%00",
  "%2f",
  "%5c",
  "//",
  ".",
  "~",
];

/** A random string mixing printable ASCII with the nasty characters; up to `maxLen` UTF-16 units. */
export function unicodeString(rng: Rng, maxLen = 24): string {
  const len = rng.int(0, maxLen);
  let s = "";
  while (s.length < len) {
    s += rng.weighted<() => string>([
      [6, () => String.fromCharCode(rng.int(0x20, 0x7e))],
      [3, () => rng.pick(NASTY_CHARS)],
      [1, () => String.fromCodePoint(rng.int(0xa0, 0xd7ff))],
      [1, () => String.fromCodePoint(rng.int(0x10000, 0x10ffff))],
    ])();
  }
  return s;
}

export function nastyString(rng: Rng): string {
  return rng.weighted<() => string>([
    [4, () => rng.pick(NASTY_STRINGS)],
    [4, () => unicodeString(rng)],
    [1, () => rng.pick(NASTY_STRINGS) + unicodeString(rng, 8)],
    [1, () => "a".repeat(rng.pick([255, 256, 1000, 5000]))],
  ])();
}

/** A path segment or id that looks like traversal: `..%2f..%2fraw%2f<uuid>`, `%2e%2e`, `....//`, … */
export function traversalId(rng: Rng, target = "raw"): string {
  const parts: string[] = [];
  const n = rng.int(1, 4);
  for (let i = 0; i < n; i++) parts.push(rng.pick(TRAVERSAL_PARTS));
  const tail = rng.pick([target, `${target}%2f${rng.uuid()}`, rng.uuid(), "etc%2fpasswd", ""]);
  return parts.join(rng.pick(["", "/", "%2f"])) + tail;
}

/** Strings one step away from a uuid: wrong length, wrong alphabet, braces, case, whitespace, look-alikes. */
export function nearMissUuid(rng: Rng): string {
  const u = rng.uuid();
  return rng.pick<() => string>([
    () => u.slice(0, -1),
    () => `${u}0`,
    () => u.replaceAll("-", ""),
    () => `{${u}}`,
    () => `urn:uuid:${u}`,
    () => ` ${u}`,
    () => `${u} `,
    () => `${u}\n`,
    () => u.replace(/[0-9a-f]/, "g"),
    () => u.replace("-", "_"),
    () => u.replace(/[0-9]/, "\uff10"), // fullwidth digit
    () => u.replace(/a|b|c|d|e|f/, "\u0430"), // Cyrillic a
    () => `${u.slice(0, 7)}-${u.slice(7, 8)}${u.slice(9)}`, // a hyphen one place early
    () => `${u}%00`,
    () => `${u}/../${rng.uuid()}`,
    () => `${u};${rng.uuid()}`,
    () => `${u},${rng.uuid()}`,
    () => "00000000-0000-0000-0000-00000000000",
    () => "test-persona-id",
    () => String(rng.int(0, 1_000_000)),
    () => "",
  ])();
}

// ---------------------------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------------------------

const NUMBERS: readonly number[] = [
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  255,
  256,
  4096,
  64000,
  64001,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 63),
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER,
];

/** A random JSON value (nested up to `depth`): wrong types for every field of every schema, eventually. */
export function randomJson(rng: Rng, depth = 3): unknown {
  const leaf = depth <= 0;
  return rng.weighted<() => unknown>([
    [2, () => null],
    [2, () => rng.chance(0.5)],
    [3, () => rng.pick(NUMBERS)],
    [1, () => rng.int(-1000, 1000) + rng.next()],
    [4, () => nastyString(rng)],
    [2, () => rng.uuid()],
    [1, () => nearMissUuid(rng)],
    [leaf ? 0 : 2, () => Array.from({ length: rng.int(0, 4) }, () => randomJson(rng, depth - 1))],
    [leaf ? 0 : 3, () => randomObject(rng, depth - 1)],
  ])();
}

export function randomObject(rng: Rng, depth = 2): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = rng.int(0, 5);
  for (let i = 0; i < n; i++) {
    const key = rng.chance(0.6) ? nastyString(rng) : rng.pick(["id", "user_id", "conversation_id", "data"]);
    // defineProperty so "__proto__" becomes an own key (JSON.stringify then sends it) instead of a prototype.
    Object.defineProperty(out, key, {
      value: randomJson(rng, depth),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Text that is not JSON, or JSON only to a lenient parser: truncation, comments, single quotes, NaN, … */
export function invalidJsonText(rng: Rng, valid: unknown = randomObject(rng)): string {
  const text = JSON.stringify(valid) ?? "null";
  return rng.pick<() => string>([
    () => text.slice(0, Math.max(1, rng.int(1, Math.max(1, text.length - 1)))),
    () => `${text},`,
    () => `${text}}`,
    () => `${text} ${text}`,
    () => text.replace(/"/g, "'"),
    () => text.replace(/:/, " "),
    () => `// comment\n${text}`,
    () => `/* x */${text}`,
    () => text.replace("}", ",}"),
    () => `{"a": NaN}`,
    () => `{"a": Infinity}`,
    () => `{"a": undefined}`,
    () => `{a: 1}`,
    () => `{"a": 01}`,
    () => `{"a": 1.}`,
    () => `{"a": .5}`,
    () => `{"a": "\\x41"}`,
    () => `{"a": "\\u12"}`,
    () => `{"a": "${"\u0001"}"}`,
    () => `[`,
    () => `{`,
    () => `"`,
    () => `\u0000`,
    () => `\ufeff${text}`.slice(0, -1),
    () => "<html><body>502 Bad Gateway</body></html>",
    () => "persona_id=x&tier=template",
    () => '--boundary\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--boundary--',
  ])();
}

/** Bytes that are not valid UTF-8: stray continuation bytes, overlong forms, CESU-8 surrogates, 0xFF. */
export function invalidUtf8(rng: Rng): Uint8Array {
  const bad: readonly number[][] = [
    [0xff],
    [0xfe, 0xff],
    [0x80],
    [0xc0, 0xaf], // overlong "/"
    [0xe0, 0x80, 0xaf],
    [0xed, 0xa0, 0x80], // UTF-16 surrogate encoded as UTF-8
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xc3],
  ];
  const prefix = new TextEncoder().encode(`{"persona_id": "`);
  const mid = rng.pick(bad);
  const suffix = new TextEncoder().encode(`"}`);
  const out = new Uint8Array(prefix.length + mid.length + suffix.length);
  out.set(prefix, 0);
  out.set(mid, prefix.length);
  out.set(suffix, prefix.length + mid.length);
  return out;
}

/** A JSON text of at least `bytes` bytes: one long string, many keys, or a long array. */
export function oversizedText(rng: Rng, bytes: number): string {
  return rng.pick<() => string>([
    () => JSON.stringify({ persona_id: "x".repeat(bytes) }),
    () => `[${"0,".repeat(Math.ceil(bytes / 2))}0]`,
    () =>
      JSON.stringify(
        Object.fromEntries(Array.from({ length: Math.ceil(bytes / 12) }, (_, i) => [`k${i}`, i])),
      ),
    () => " ".repeat(bytes) + "{}",
  ])();
}

/** Deeply nested arrays or objects (`depth` levels), under any size limit when depth is a few thousand. */
export function deepJson(rng: Rng, depth: number): string {
  return rng.chance(0.5)
    ? "[".repeat(depth) + "]".repeat(depth)
    : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

// ---------------------------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------------------------

/**
 * What a client can actually put in an HTTP header value: the UTF-8 bytes of `s` as Latin-1 characters (how a
 * server sees a client that sends UTF-8), without the control bytes HTTP stacks refuse to send (all below 0x20
 * but tab, and DEL) and without the leading or trailing whitespace that HTTP trims.
 */
export function headerValue(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let out = "";
  for (const b of bytes) if ((b >= 0x20 && b !== 0x7f) || b === 0x09) out += String.fromCharCode(b);
  return out.trim();
}

/**
 * Percent-encodes every byte of the UTF-8 form of `s` except RFC 3986's unreserved characters, the way a
 * client puts arbitrary text in a path segment or query. Unlike encodeURIComponent it never throws: a lone
 * surrogate becomes U+FFFD, as TextEncoder (and every client that encodes UTF-8) sends it.
 */
export function percentEncode(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
