/** `kv-envelope cert …`: Key Vault certificates (create self-signed, show, download, import, renew, soft delete). */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { CertificateClient, CertificateClientOptions, CertificatePolicy } from '@azure/keyvault-certificates';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { ContentError, readCertificateFile } from '../../certificates/internal/content.js';
import { escapeUntrusted } from '../../internal/escape.js';
import { parse, positionals } from '../args.js';
import { writeAtomically } from '../atomic-file.js';
import { CommandError, UsageError } from '../errors.js';
import { type Output, refuseOverwrite } from '../output.js';
import type { VaultContext } from '../vault-context.js';
import { confirmPurge, waitUntilPurged } from './key-helpers.js';
import { createPolicy, describe, exportableContent, notFound, summary, toPem } from './cert-helpers.js';

export const CERT_HELP = `Usage: kv-envelope cert <command> [options]

Commands:
  create NAME --subject "CN=…" [--san dns:NAME|email:ADDR|upn:USER@DOMAIN|uri:URI|ip:ADDR]… [--validity-months N]
         [--key-type RSA|EC] [--size 2048|3072|4096 | --curve P-256|P-384|P-521|P-256K*] [--pem]
         [--not-exportable]
                      create a self-signed certificate (issuer Self; default RSA 2048, 12 months,
                      stored as PFX, or PEM with --pem). An existing NAME is an error: "cert renew"
                      *P-256K: the real Key Vault only (the local vault refuses it)
  list [--deleted]    list certificates (or soft-deleted ones)
  show NAME           the current version: subject, SANs, validity, thumbprint, key id
  versions NAME       every version (newest first)
  download NAME [--format pem|pfx|cer] [-o FILE] [--version V] [--force]
                      pem/pfx: the private key and the chain (only when the key is exportable);
                      cer: the public certificate alone (DER). Written with mode 0600, atomically;
                      default FILE NAME.FORMAT, kept unless --force; -o - writes to stdout
  import NAME FILE [--password-file F]
                      import a PFX or PEM (key + certificate); the password is read from F
  renew NAME          a new version with the same policy (new key unless the policy reuses it)
  delete NAME         soft-delete (recoverable for the retention period)
  recover NAME        recover a soft-deleted certificate (an error if NAME is not deleted)
  purge NAME [--yes]  permanently delete a soft-deleted certificate: asks on a terminal, else needs --yes

Options: --json (machine-readable output), --vault-url URL, --home DIR, -h/--help`;

const OPTIONS = {
  subject: { type: 'string' }, san: { type: 'string', multiple: true }, 'validity-months': { type: 'string' }, 'key-type': { type: 'string' },
  size: { type: 'string' }, curve: { type: 'string' }, pem: { type: 'boolean' }, 'not-exportable': { type: 'boolean' },
  deleted: { type: 'boolean' }, format: { type: 'string' }, output: { type: 'string', short: 'o' }, version: { type: 'string' }, force: { type: 'boolean' },
  'password-file': { type: 'string' }, yes: { type: 'boolean' },
} as const;

/** Which options each command takes (anything else is a usage error, not silently ignored). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  create: ['subject', 'san', 'validity-months', 'key-type', 'size', 'curve', 'pem', 'not-exportable'], list: ['deleted'], show: [], versions: [],
  download: ['format', 'output', 'version', 'force'], import: ['password-file'], renew: [], delete: [], recover: [], purge: ['yes'],
};
const GLOBAL = new Set(['help', 'json', 'vault-url', 'home']);
const FORMATS = ['pem', 'pfx', 'cer'] as const;
const POLL = { intervalInMs: 250 };

/** The role a 403 names: reading metadata is Reader; a private key is Certificate User; the rest Certificates Officer. */
export function certRole(sub: string | undefined): string {
  if (sub === 'list' || sub === 'show' || sub === 'versions') return 'Key Vault Reader';
  return sub === 'download' ? 'Key Vault Certificate User' : 'Key Vault Certificates Officer';
}

export async function certCommand(argv: string[], vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${CERT_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals: pos } = parse(rest, OPTIONS, `cert ${sub}`);
  if (values.help) {
    process.stdout.write(`${CERT_HELP}\n`);
    return 0;
  }
  const allowed = ALLOWED[sub];
  if (allowed === undefined) throw new UsageError(`unknown cert command "${escapeUntrusted(sub)}" (see: kv-envelope cert --help)`);
  for (const name of Object.keys(values)) {
    if (!GLOBAL.has(name) && !allowed.includes(name)) throw new UsageError(`--${name} does not apply to "cert ${sub}" (see: kv-envelope cert --help)`);
  }
  const [name, file] = positionals(pos, sub === 'list' ? [] : sub === 'import' ? ['name', 'file'] : ['name'], `cert ${sub}`) as [string, string | undefined];
  // Every check of the command line comes before the first vault call.
  const policy = sub === 'create' ? createPolicy(values) : undefined;
  const format = (values.format ?? 'pem') as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new UsageError(`--format is pem, pfx or cer, got "${escapeUntrusted(values.format!)}"`);
  const output = values.output ?? `${name}.${format}`;
  if (sub === 'download') refuseOverwrite(output, values.force);
  const imported = sub === 'import' ? await importInput(file!, values['password-file']) : undefined;
  if (sub === 'purge' && values.yes !== true) {
    await confirmPurge('cert purge', name, `Permanently delete certificate ${name} (and its key and secret)? It cannot be recovered. Type the name to confirm: `);
  }
  const v = await vault();
  // Loaded here, not at start-up: other commands do not pay for the certificates client.
  const { CertificateClient } = await import('@azure/keyvault-certificates');
  const certs = new CertificateClient(v.url, v.credential, v.clientOptions as CertificateClientOptions);
  switch (sub) {
    case 'create': {
      const existing = await certs.getCertificate(name).catch(notFound);
      if (existing !== undefined) throw new CommandError('CERTIFICATE_EXISTS', `certificate ${name} already exists (version ${existing.properties.version}): "cert renew ${name}" makes a new version`);
      const cert = await (await certs.beginCreateCertificate(name, policy!, POLL)).pollUntilDone();
      out.result(`created ${describe(cert)}`, summary(cert));
      return 0;
    }
    case 'list': {
      const rows = [];
      if (values.deleted) {
        for await (const d of certs.listDeletedCertificates()) rows.push({ name: d.name, deletedOn: d.deletedOn, scheduledPurgeDate: d.scheduledPurgeDate });
        out.result(rows.length === 0 ? 'no deleted certificates' : rows.map((r) => `${r.name} (deleted ${r.deletedOn?.toISOString() ?? ''}, purged ${r.scheduledPurgeDate?.toISOString() ?? 'on request'})`).join('\n'), rows);
        return 0;
      }
      for await (const p of certs.listPropertiesOfCertificates()) rows.push({ name: p.name, enabled: p.enabled, expiresOn: p.expiresOn });
      out.result(rows.length === 0 ? 'no certificates' : rows.map((r) => `${r.name} (expires ${r.expiresOn?.toISOString() ?? '?'})${r.enabled === false ? ' (disabled)' : ''}`).join('\n'), rows);
      return 0;
    }
    case 'show': {
      const cert = await certs.getCertificate(name);
      out.result(describe(cert), summary(cert));
      return 0;
    }
    case 'versions': {
      const rows = [];
      for await (const p of certs.listPropertiesOfCertificateVersions(name)) rows.push({ version: p.version, enabled: p.enabled, createdOn: p.createdOn, notBefore: p.notBefore, expiresOn: p.expiresOn });
      if (rows.length === 0) throw new CommandError('CERTIFICATE_NOT_FOUND', `certificate ${name} not found`);
      rows.sort((a, b) => (b.createdOn?.getTime() ?? 0) - (a.createdOn?.getTime() ?? 0));
      out.result(rows.map((r) => `${r.version} ${r.createdOn?.toISOString() ?? ''} expires ${r.expiresOn?.toISOString() ?? '?'}${r.enabled === false ? ' (disabled)' : ''}`).join('\n'), rows);
      return 0;
    }
    case 'download':
      return download(v, certs, name, format, output, values.version, out);
    case 'import': {
      const cert = await certs.importCertificate(name, imported!.bytes, { ...(imported!.password === undefined ? {} : { password: imported!.password }), policy: { contentType: imported!.contentType } as never });
      out.result(`imported ${describe(cert)}`, summary(cert));
      return 0;
    }
    case 'renew': {
      const current = await certs.getCertificatePolicy(name);
      const cert = await (await certs.beginCreateCertificate(name, current, POLL)).pollUntilDone();
      out.result(`renewed ${describe(cert)}`, summary(cert));
      return 0;
    }
    case 'delete': {
      const deleted = await (await certs.beginDeleteCertificate(name, POLL)).pollUntilDone();
      out.result(`deleted ${name} (recoverable until ${deleted.scheduledPurgeDate?.toISOString() ?? 'purged'})`, { name, recoveryId: deleted.recoveryId, scheduledPurgeDate: deleted.scheduledPurgeDate });
      return 0;
    }
    case 'recover': {
      if ((await certs.getDeletedCertificate(name).catch(notFound)) === undefined) {
        const live = (await certs.getCertificate(name).catch(notFound)) !== undefined;
        throw new CommandError('CERTIFICATE_NOT_DELETED', `certificate ${name} is not deleted: nothing to recover${live ? ' (it exists and is in use)' : ' (no certificate or deleted certificate has that name)'}`);
      }
      const cert = await (await certs.beginRecoverDeletedCertificate(name, POLL)).pollUntilDone();
      out.result(`recovered ${describe(cert)}`, summary(cert));
      return 0;
    }
    default: {
      await certs.purgeDeletedCertificate(name).catch((err: unknown) => {
        if ((err as { statusCode?: unknown })?.statusCode === 404) throw new CommandError('CERTIFICATE_NOT_DELETED', `certificate ${name} is not soft-deleted: delete it first (kv-envelope cert delete ${name})`);
        throw err;
      });
      // why: a purge completes after the 204 (1–5 s on Azure); "purged" is printed once it is gone.
      await waitUntilPurged(() => certs.getDeletedCertificate(name), `certificate ${name}`);
      out.result(`purged ${name}`, { name, purged: true });
      return 0;
    }
  }
}

/** The file to import, checked locally first: a wrong password or a file that is no certificate is a usage error, before any vault call. */
async function importInput(file: string, passwordFile: string | undefined): Promise<{ bytes: Uint8Array; password?: string; contentType: string }> {
  const bytes = await readFile(file);
  const password = passwordFile === undefined ? undefined : (await readFile(passwordFile, 'utf8')).replace(/\r?\n$/, '');
  const pem = Buffer.from(bytes).toString('latin1').includes('-----BEGIN');
  try {
    const content = await readCertificateFile(bytes, password);
    if (content.privateKey === undefined) throw new UsageError(`${file}: holds no private key (Key Vault imports a certificate with its key)`);
  } catch (err) {
    if (!(err instanceof ContentError)) throw err;
    // Legacy PFX encryption is read by Key Vault but not by pkijs: let the vault decide.
    if (!/legacy/.test(err.message)) throw new UsageError(`${file}: ${err.message}`);
  }
  return { bytes, ...(password === undefined ? {} : { password }), contentType: pem ? 'application/x-pem-file' : 'application/x-pkcs12' };
}

async function download(v: VaultContext, certs: CertificateClient, name: string, format: (typeof FORMATS)[number], output: string, version: string | undefined, out: Output): Promise<number> {
  const cert = version === undefined ? await certs.getCertificate(name) : await certs.getCertificateVersion(name, version);
  const at = cert.properties.version;
  let bytes: Buffer;
  if (format === 'cer') {
    if (cert.cer === undefined || cert.cer.length === 0) throw new CommandError('ERR_CERTIFICATE_UNAVAILABLE', `certificate ${name}: the vault returned no certificate (is it still pending?)`);
    bytes = Buffer.from(cert.cer);
  } else {
    const policy = (cert as { policy?: CertificatePolicy }).policy ?? (await certs.getCertificatePolicy(name));
    if (policy.exportable === false) {
      throw new CommandError('ERR_CERTIFICATE_NOT_EXPORTABLE', `certificate ${name}: its key is not exportable, so only the public certificate can be downloaded (--format cer)`);
    }
    const { SecretClient } = await import('@azure/keyvault-secrets');
    const secret = await new SecretClient(v.url, v.credential, v.clientOptions as SecretClientOptions).getSecret(name, { version: at });
    const content = await exportableContent(secret.value ?? '', secret.properties.contentType, name);
    if (format === 'pem') bytes = Buffer.from(toPem(content));
    else if (secret.properties.contentType === 'application/x-pem-file') {
      throw new UsageError(`certificate ${name} is stored as PEM: download --format pem (convert with: openssl pkcs12 -export -in ${name}.pem -out ${name}.pfx)`);
    } else bytes = Buffer.from(secret.value!.replace(/\s+/g, ''), 'base64');
  }
  await writeAtomically(output, Readable.from([bytes]));
  // With -o - the certificate is the output: nothing else goes to stdout.
  if (output !== '-') out.result(`downloaded ${name} version ${at} → ${output} (${format}${format === 'cer' ? ', public certificate only' : ', with the private key: keep it safe'})`, { name, version: at, format, output, bytes: bytes.length });
  return 0;
}
