/**
 * Signed URLs shared by create_signed_url.ts, create_signed_urls.ts (and checked by get_signed_object.ts).
 */
import type { StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { signJwt } from "../../../../keys.ts";

/** A download URL for one object: a JWT (scope download, url bucket/name) signed with the project secret. */
export async function signOne(
  ctx: StorageContext,
  bucketId: string,
  name: string,
  expiresIn: number,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt({
    url: `${bucketId}/${name}`,
    scope: "download",
    iat: now,
    exp: now + expiresIn,
  }, ctx.jwtSecret);
  return `/object/sign/${bucketId}/${name}?token=${token}`;
}

/** `expiresIn` of a sign request: required, a number, at least 1 (seconds), as storage-api's schema says. */
export function readExpiresIn(body: Record<string, unknown> | null): number {
  const e = body?.expiresIn;
  if (e === undefined) throw ERRORS.schema("body", "expiresIn");
  if (typeof e !== "number" || !Number.isFinite(e)) {
    throw ERRORS.invalidRequest("body/expiresIn must be number");
  }
  if (e < 1) throw ERRORS.invalidRequest("body/expiresIn must be >= 1");
  return Math.floor(e);
}
