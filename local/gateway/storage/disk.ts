/**
 * Object bytes on local disk, laid out like storage-api's file backend: `<storageDir>/<bucket>/<key>/<version>`.
 * Every upload writes a new version file (temp file + rename, so a reader never sees half a file); the row in
 * storage.objects names the version that is current. So a failed database write deletes only its own new file,
 * an overwrite never destroys the bytes the committed row still points to, and the previous version is removed
 * only after the new row has committed.
 */
import { createHash } from "node:crypto";
import { dirname, join, resolve, sep } from "node:path";

export interface StoredFile {
  size: number;
  /** Quoted MD5 hex, like S3 and storage-api's file backend. */
  eTag: string;
  lastModified: Date;
}

export class DiskStore {
  private tmpReady = false;

  constructor(private readonly root: string) {}

  /** The file for one version; null when the key would leave the bucket's folder (`.` or `..` segments). */
  pathFor(bucket: string, key: string, version: string): string | null {
    if (key.split("/").some((seg) => seg === "." || seg === "..")) return null;
    const bucketDir = resolve(this.root, bucket);
    const p = resolve(bucketDir, key, version);
    if (!p.startsWith(bucketDir + sep)) return null;
    return p;
  }

  async write(bucket: string, key: string, version: string, bytes: Uint8Array): Promise<StoredFile> {
    const target = this.pathFor(bucket, key, version);
    if (!target) throw new Error(`unsafe object path: ${bucket}/${key}`);
    const tmpDir = join(this.root, ".tmp");
    // The temp folder is made once per store (one syscall less per upload), again if something removed it.
    if (!this.tmpReady) {
      await Deno.mkdir(tmpDir, { recursive: true });
      this.tmpReady = true;
    }
    await Deno.mkdir(dirname(target), { recursive: true });
    const tmp = join(tmpDir, `${crypto.randomUUID()}.part`);
    try {
      try {
        await Deno.writeFile(tmp, bytes);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
        await Deno.mkdir(tmpDir, { recursive: true });
        await Deno.writeFile(tmp, bytes);
      }
      await Deno.rename(tmp, target);
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      throw err;
    }
    const stat = await Deno.stat(target);
    return {
      size: bytes.byteLength,
      eTag: `"${createHash("md5").update(bytes).digest("hex")}"`,
      lastModified: stat.mtime ?? new Date(),
    };
  }

  async open(bucket: string, key: string, version: string): Promise<Deno.FsFile | null> {
    const p = this.pathFor(bucket, key, version);
    if (!p) return null;
    try {
      return await Deno.open(p, { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }

  /** Removes one version and the folders it leaves empty (best effort: a leftover file is only disk space). */
  async remove(bucket: string, key: string, version: string): Promise<void> {
    const p = this.pathFor(bucket, key, version);
    if (!p) return;
    await Deno.remove(p).catch(() => {});
    const stop = resolve(this.root, bucket);
    let dir = dirname(p);
    while (dir.startsWith(stop + sep)) {
      try {
        await Deno.remove(dir); // fails when not empty: stop there
      } catch {
        break;
      }
      dir = dirname(dir);
    }
  }
}
