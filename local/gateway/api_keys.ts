/**
 * API key translation, as the CLI's Kong does it (internal/start/start.go, `BearerToken`): downstream
 * services only ever see JWTs. When the Authorization header is missing or carries an `sb_…` key, the
 * `apikey` header (or that bearer value) is mapped: the secret key → the service_role JWT, the publishable
 * key → the anon JWT. Any other value is passed through untouched (and then fails verification).
 */

export interface KeySet {
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
}

export function translateApiKey(req: Request, keys: KeySet): Request {
  const auth = req.headers.get("authorization");
  const bearer = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] ?? null : null;
  if (auth && bearer !== null && !bearer.startsWith("sb_")) return req;
  if (auth && bearer === null) return req;
  const candidate = bearer ?? req.headers.get("apikey");
  let jwt: string | null = null;
  if (candidate === keys.secretKey) jwt = keys.serviceRoleKey;
  else if (candidate === keys.publishableKey) jwt = keys.anonKey;
  if (jwt === null) return req;
  const headers = new Headers(req.headers);
  headers.set("authorization", `Bearer ${jwt}`);
  return new Request(req, { headers });
}
