/**
 * Who the security suite acts as, and the raw HTTP calls it makes (fetch, not supabase-js, so every status and
 * body is seen exactly as the platform sends it).
 *
 *   createActors()      users A and B (auth.users rows and access tokens) and the project keys
 *   BAD_TOKENS          credentials that must never pass: expired, wrongly signed, unsigned, anon, absent, …
 *   storage(path, init) a call to /storage/v1 on the local stack
 *   fn(name, tail, …)   a call to /functions/v1/<name>
 *   Recorder            keeps every answer so a test can check none of them carries a secret
 */
import { LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY, signJwt } from "../../../local/keys.ts";
import {
  anonKey,
  createTestUser,
  functionsUrl,
  mintUserToken,
  serviceKey,
  stackEnv,
} from "../../support/stack.ts";

export interface User {
  id: string;
  token: string;
}

export interface Actors {
  a: User;
  b: User;
}

export async function createActors(): Promise<Actors> {
  const [a, b] = [await createTestUser(), await createTestUser()];
  return { a: { id: a.id, token: a.token }, b: { id: b.id, token: b.token } };
}

/** The values that must never leave the server side: the service key (and its signature), the JWT secret, the
 * sb_secret_ key. */
export function secrets(): string[] {
  const service = serviceKey();
  return [service, service.split(".")[2], stackEnv().SUPABASE_JWT_SECRET, LOCAL_SECRET_KEY];
}

function base64Url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export interface BadToken {
  name: string;
  /** Headers presenting it, for user A's identity where the token names a user. */
  headers(a: User): Promise<Record<string, string>>;
  /** Whether the platform's verify_jwt stops it (true) or it is a valid JWT our code must refuse (false). */
  failsVerifyJwt: boolean;
}

const OTHER_SECRET = "not-the-project-secret-but-long-enough-to-sign-with-0123456789";

/** Every way a caller can fail to be a user. Each must get a 401 from every user endpoint. */
export const BAD_TOKENS: readonly BadToken[] = [
  { name: "no Authorization header", headers: () => Promise.resolve({}), failsVerifyJwt: true },
  {
    name: "an expired user token",
    headers: async (a) => ({ authorization: `Bearer ${await mintUserToken(a.id, { expiresIn: -30 })}` }),
    failsVerifyJwt: true,
  },
  {
    name: "a user token signed with another secret",
    headers: async (a) => ({
      authorization: `Bearer ${await mintUserToken(a.id, { secret: OTHER_SECRET })}`,
    }),
    failsVerifyJwt: true,
  },
  {
    name: "an unsigned token (alg none)",
    headers: (a) => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: a.id, role: "authenticated", aud: "authenticated", exp: now + 3600 };
      const token = `${base64Url('{"alg":"none","typ":"JWT"}')}.${base64Url(JSON.stringify(claims))}.`;
      return Promise.resolve({ authorization: `Bearer ${token}` });
    },
    failsVerifyJwt: true,
  },
  {
    name: "a service_role token signed with another secret",
    headers: async () => ({
      authorization: `Bearer ${await signJwt(
        { iss: "supabase-demo", role: "service_role", exp: Math.floor(Date.now() / 1000) + 3600 },
        OTHER_SECRET,
      )}`,
    }),
    failsVerifyJwt: true,
  },
  {
    name: "a token that is not a JWT",
    headers: () => Promise.resolve({ authorization: "Bearer not-a-jwt" }),
    failsVerifyJwt: true,
  },
  {
    name: "the anon key",
    headers: () => Promise.resolve({ authorization: `Bearer ${anonKey()}`, apikey: anonKey() }),
    failsVerifyJwt: false,
  },
  {
    name: "the sb_publishable_ key",
    headers: () =>
      Promise.resolve({ authorization: `Bearer ${LOCAL_PUBLISHABLE_KEY}`, apikey: LOCAL_PUBLISHABLE_KEY }),
    failsVerifyJwt: false,
  },
  {
    name: "a validly signed token with role anon and A's sub",
    headers: async (a) => ({ authorization: `Bearer ${await mintUserToken(a.id, { role: "anon" })}` }),
    failsVerifyJwt: false,
  },
];

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  bytes: Uint8Array;
}

/** Every answer a test received, for the secret check at its end. */
export class Recorder {
  readonly answers: { what: string; answer: Answer }[] = [];

  async fetch(what: string, url: string, init: RequestInit = {}): Promise<Answer> {
    const res = await fetch(url, { ...init, redirect: "manual" });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const answer = { status: res.status, headers: res.headers, text: new TextDecoder().decode(bytes), bytes };
    this.answers.push({ what, answer });
    return answer;
  }

  storage(what: string, path: string, init: RequestInit = {}): Promise<Answer> {
    return this.fetch(what, `${stackEnv().SUPABASE_URL}/storage/v1/${path}`, init);
  }

  fn(what: string, name: string, tail: string, init: RequestInit = {}): Promise<Answer> {
    return this.fetch(what, `${functionsUrl(name)}${tail}`, init);
  }

  /** Answers (by description) whose body or headers contain a secret. */
  leaks(): string[] {
    const values = secrets();
    return this.answers
      .filter(({ answer }) => {
        const headers = [...answer.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
        return values.some((s) => answer.text.includes(s) || headers.includes(s));
      })
      .map(({ what }) => what);
  }
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export function serviceHeaders(): Record<string, string> {
  return { ...bearer(serviceKey()), apikey: serviceKey() };
}

export function secretKeyHeaders(): Record<string, string> {
  return { apikey: LOCAL_SECRET_KEY, authorization: `Bearer ${LOCAL_SECRET_KEY}` };
}

/** Parses an answer as JSON, or null. */
export function jsonOf(a: Answer): unknown {
  try {
    return JSON.parse(a.text);
  } catch {
    return null;
  }
}
