/**
 * Storage API errors exactly as storage-api renders them (src/internal/errors/codes.ts, src/http/error-handler.ts,
 * src/storage/database/errors.ts): the intended status travels as a *string* `statusCode` in the body, and the
 * HTTP status is 400 for every error whose intended status is not 500. storage-js turns that into
 * `StorageApiError { status: 400, statusCode: "409", code: "ResourceAlreadyExists" }`.
 */

export class StorageApiError extends Error {
  constructor(
    readonly httpStatusCode: number,
    readonly code: string,
    message: string,
    readonly error?: string,
    /** Overrides the 400-for-everything rule (storage-api's `withStatusCode`). */
    readonly userStatusCode?: number,
  ) {
    super(message);
    this.name = "StorageApiError";
  }

  render(): Response {
    const status = this.userStatusCode ?? (this.httpStatusCode === 500 ? 500 : 400);
    return new Response(
      JSON.stringify({
        statusCode: String(this.httpStatusCode),
        code: this.code,
        error: this.error ?? this.code,
        message: this.message,
      }),
      { status, headers: { "content-type": "application/json; charset=utf-8" } },
    );
  }
}

/** fastify's own 404 for an unknown route: HTTP 404, a numeric statusCode and no `code`. */
class RouteNotFound extends StorageApiError {
  constructor(method: string, path: string) {
    super(404, "NotFound", `Route ${method}:${path} not found`, "Not Found", 404);
  }

  override render(): Response {
    return new Response(
      JSON.stringify({ statusCode: 404, error: "Not Found", message: this.message }),
      { status: 404, headers: { "content-type": "application/json; charset=utf-8" } },
    );
  }
}

export const ERRORS = {
  noSuchBucket: () => new StorageApiError(404, "NoSuchBucket", "Bucket not found", "Bucket not found"),
  noSuchKey: () => new StorageApiError(404, "NoSuchKey", "Object not found", "not_found"),
  invalidKey: (key: string) => new StorageApiError(400, "InvalidKey", `Invalid key: ${key}`),
  invalidBucketName: () =>
    new StorageApiError(400, "InvalidBucketName", "Bucket name invalid", "Invalid Input"),
  accessDenied: (message: string) =>
    new StorageApiError(403, "AccessDenied", message || "Access denied", "Unauthorized"),
  duplicate: () =>
    new StorageApiError(409, "ResourceAlreadyExists", "The resource already exists", "Duplicate"),
  /** An upload without upsert onto an existing object (storage-api 1.11.2 answers KeyAlreadyExists there). */
  keyAlreadyExists: () =>
    new StorageApiError(409, "KeyAlreadyExists", "The resource already exists", "Duplicate"),
  entityTooLarge: () =>
    new StorageApiError(
      413,
      "EntityTooLarge",
      "The object exceeded the maximum allowed size",
      "Payload too large",
    ),
  invalidMimeType: (mime: string) =>
    new StorageApiError(415, "InvalidMimeType", `mime type ${mime} is not supported`, "invalid_mime_type"),
  invalidJwt: (message: string) => new StorageApiError(400, "InvalidJWT", message || "Invalid JWT"),
  invalidSignature: (message = "Invalid signature") => new StorageApiError(400, "InvalidSignature", message),
  expiredSignature: () => new StorageApiError(400, "ExpiredToken", "The provided token has expired."),
  invalidRequest: (message: string) =>
    new StorageApiError(400, "InvalidRequest", message || "Invalid Request"),
  /**
   * A request that fails the route's JSON schema: storage-api (fastify + ajv) answers InvalidRequest with the
   * validator's message, e.g. `body must have required property 'expiresIn'`.
   */
  schema: (part: "body" | "querystring" | "headers", property: string) =>
    new StorageApiError(400, "InvalidRequest", `${part} must have required property '${property}'`),
  noContent: () => new StorageApiError(400, "InvalidRequest", "No content provided"),
  routeNotFound: (method: string, path: string) => new RouteNotFound(method, path),
  internal: () => new StorageApiError(500, "InternalError", "Internal Server Error", "Internal"),
  database: (pgCode: string) => new StorageApiError(500, "DatabaseError", `database error, code: ${pgCode}`),
  timeout: () =>
    new StorageApiError(544, "DatabaseTimeout", "The connection to the database timed out", undefined, 544),
} as const;

/** storage-api's SQLSTATE translation (src/storage/database/errors.ts), for the codes that occur here. */
export function fromPgError(err: unknown): StorageApiError | null {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code !== "string" || !/^[0-9A-Z]{5}$/.test(e.code)) return null;
  const message = typeof e.message === "string" ? e.message : "";
  switch (e.code) {
    case "42501":
      return ERRORS.accessDenied(
        message.includes("row-level security") ? "new row violates row-level security policy" : message,
      );
    case "23505":
      return ERRORS.duplicate();
    case "57014":
      return ERRORS.timeout();
    case "22P02":
      return new StorageApiError(
        400,
        "InvalidParameter",
        message || "Invalid value format or type conversion failed",
      );
    default:
      return ERRORS.database(e.code);
  }
}
