import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors/config-error.js';

/** The sha256 of a document's exact text (UTF-8), lower-case hex: its id in the trusted-documents list. */
export function documentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The file `npm run build` writes from the dashboard's operations
 * (`web/src/operations.ts`): `{ "algorithm": "sha256", "documents": { "<hex>": "<text>" } }`.
 */
export interface TrustedDocumentsFile {
  algorithm: 'sha256';
  documents: Record<string, string>;
}

/**
 * The operations shipped with the dashboard, by hash (trusted documents, also
 * called persisted operations). Looked up by the hash of a request's text, or
 * by an APQ-style `extensions.persistedQuery.sha256Hash` without text.
 */
export class TrustedDocuments {
  constructor(private readonly byHash: ReadonlyMap<string, string>) {}

  /**
   * Reads the list written at build time.
   * @throws {ConfigError} when the file is missing or not such a list.
   */
  static load(path: string): TrustedDocuments {
    let file: TrustedDocumentsFile;
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as TrustedDocumentsFile;
    } catch (err) {
      throw new ConfigError(
        `trusted documents: cannot read ${path} (written by npm run build): ${(err as Error).message}`,
        { cause: err },
      );
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the file is unchecked JSON: this line is what establishes its declared type
    if (file?.algorithm !== 'sha256' || typeof file.documents !== 'object')
      throw new ConfigError(`trusted documents: ${path} is not a sha256 document list`);
    for (const [hash, text] of Object.entries(file.documents)) {
      if (documentHash(text) !== hash)
        throw new ConfigError(`trusted documents: ${path} lists ${hash.slice(0, 12)}... whose text has another hash`);
    }
    return new TrustedDocuments(new Map(Object.entries(file.documents)));
  }

  /** The text of the trusted document with this hash, or undefined. */
  text(hash: string): string | undefined {
    return this.byHash.get(hash.toLowerCase());
  }

  has(hash: string): boolean {
    return this.byHash.has(hash.toLowerCase());
  }

  get size(): number {
    return this.byHash.size;
  }
}
