/**
 * Validation of request-body members shared by create, import and update: key_ops,
 * attributes and tags. Every failure is the service's 400 BadParameter.
 *
 * @module
 */
import { FAMILIES, KEY_TYPES, lookup, type KeyFamily, type KeyOperation, type KeyType } from '../crypto/algorithms.js';
import { badParameter } from '../http/errors.js';
import type { KeyAttributesRecord } from './state.js';

// Key Vault limits: 15 tags, 512-character names, 256-character values.
const MAX_TAGS = 15;
const MAX_TAG_NAME = 512;
const MAX_TAG_VALUE = 256;

/** A JSON object member, or `undefined` when absent. */
export function optionalObject(value: unknown, field: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw badParameter(`The parameter '${field}' must be an object.`);
  return value as Record<string, unknown>;
}

/**
 * `key_ops` for a key of `family`; `undefined` when absent.
 *
 * @throws {VaultHttpError} 400 with the service's "Unsupported key operation(s)" message.
 */
export function parseKeyOps(value: unknown, family: KeyFamily): KeyOperation[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((op) => typeof op === 'string')) {
    throw badParameter("The parameter 'key_ops' must be an array of strings.");
  }
  const supported: readonly string[] = FAMILIES[family].ops;
  const unsupported = value.filter((op: string) => !supported.includes(op));
  if (unsupported.length > 0) {
    const list = (ops: readonly string[]): string => ops.map((op) => `"${op}"`).join(', ');
    throw badParameter(`Unsupported key operation(s): ${list(unsupported)}. Supported values are ${list(supported)}.`);
  }
  return [...new Set(value as KeyOperation[])];
}

function optionalTime(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw badParameter(`The attribute '${field}' must be a Unix time in seconds.`);
  }
  return value;
}

function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badParameter(`The attribute '${field}' must be a boolean.`);
  return value;
}

/**
 * Applies a request's `attributes` (enabled, nbf, exp, exportable) on top of `base`; `created`
 * and `updated` are the server's.
 */
export function applyAttributes(value: unknown, base: KeyAttributesRecord): KeyAttributesRecord {
  const attributes = optionalObject(value, 'attributes');
  const out = { ...base };
  if (!attributes) return out;
  const enabled = optionalBoolean(attributes.enabled, 'enabled');
  const nbf = optionalTime(attributes.nbf, 'nbf');
  const exp = optionalTime(attributes.exp, 'exp');
  const exportable = optionalBoolean(attributes.exportable, 'exportable');
  if (enabled !== undefined) out.enabled = enabled;
  if (nbf !== undefined) out.nbf = nbf;
  if (exp !== undefined) out.exp = exp;
  if (exportable !== undefined) out.exportable = exportable;
  return out;
}

/** `tags` as a string map; `undefined` when absent. */
export function parseTags(value: unknown): Record<string, string> | undefined {
  const tags = optionalObject(value, 'tags');
  if (!tags) return undefined;
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) throw badParameter(`A key can have at most ${MAX_TAGS} tags.`);
  for (const [name, tag] of entries) {
    if (typeof tag !== 'string') throw badParameter(`The tag '${name}' must have a string value.`);
    if (name.length > MAX_TAG_NAME || tag.length > MAX_TAG_VALUE) {
      throw badParameter(`Tag names are limited to ${MAX_TAG_NAME} and values to ${MAX_TAG_VALUE} characters.`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * The key type an import asks for: the JWK's family, as `-HSM` when `Hsm` is true, when the
 * JWK's kty already says so, or for AES (`oct-HSM` is the only symmetric type). `undefined` for
 * an unknown kty.
 */
export function importedKeyType(body: Record<string, unknown>): KeyType | undefined {
  const jwk = optionalObject(body.key, 'key') ?? {};
  const family = jwk.kty === 'oct' ? 'oct' : lookup(KEY_TYPES, jwk.kty)?.family;
  if (!family) return undefined;
  const hsm = body.Hsm === true || String(jwk.kty).endsWith('-HSM') || family === 'oct';
  return (hsm ? `${family}-HSM` : family) as KeyType;
}
