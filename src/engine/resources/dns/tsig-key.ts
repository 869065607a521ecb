import { existsSync, readFileSync, statSync } from 'node:fs';
import { inspect } from 'node:util';
import { HaloError } from '../../../errors.js';

/** TSIG algorithm names (RFC 8945 §6) and the node:crypto hash behind each. */
const ALGORITHMS: Readonly<Record<string, string>> = {
  'hmac-sha1': 'sha1',
  'hmac-sha224': 'sha224',
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
};

export interface TsigKey {
  name: string;
  algorithm: string;
  hash: string;
  secret: Buffer;
}

/**
 * A key that cannot leak through a log line, an event or JSON: the secret is not enumerable,
 * and inspect/toJSON show only the name and algorithm: secrets never reach logs or the API.
 */
function sealed(name: string, algorithm: string, hash: string, secret: Buffer): TsigKey {
  const key = { name, algorithm, hash } as TsigKey;
  Object.defineProperty(key, 'secret', { value: secret, enumerable: false });
  const shown = () => ({ name, algorithm });
  Object.defineProperty(key, 'toJSON', { value: shown, enumerable: false });
  Object.defineProperty(key, inspect.custom, { value: shown, enumerable: false });
  return key;
}

/**
 * Parses a BIND key file, as written by `tsig-keygen NAME` and read by `named` and
 * `nsupdate -k`:  key "NAME" { algorithm hmac-sha256; secret "BASE64"; };
 * With several keys, `keyName` picks one.
 */
export function parseKeyFile(text: string, source: string, keyName?: string): TsigKey {
  // Comments go, quoted strings stay: a base64 secret may well contain "//".
  const cleaned = text.replace(/"[^"]*"|\/\*[\s\S]*?\*\/|(?:#|\/\/)[^\n]*/g, (m) =>
    m.startsWith('"') ? m : '',
  );
  const keys: TsigKey[] = [];
  for (const m of cleaned.matchAll(/key\s+"?([^"\s{]+)"?\s*\{([\s\S]*?)\}\s*;/g)) {
    const name = m[1] ?? '';
    const body = m[2] ?? '';
    const algorithm = /algorithm\s+"?([A-Za-z0-9-]+)"?\s*;/.exec(body)?.[1]?.toLowerCase();
    const secret = /secret\s+"([A-Za-z0-9+/=\s]+)"\s*;/.exec(body)?.[1]?.replace(/\s+/g, '');
    if (!algorithm || !secret)
      throw new HaloError(
        'HALO_E_SECRET',
        `TSIG key file ${source}: key "${name}" lacks an algorithm or a secret`,
        {
          file: source,
        },
      );
    const hash = ALGORITHMS[algorithm];
    if (!hash)
      throw new HaloError(
        'HALO_E_SECRET',
        `TSIG key file ${source}: algorithm ${algorithm} is not supported; use hmac-sha256 (tsig-keygen -a hmac-sha256 ${name})`,
        { file: source },
      );
    keys.push(sealed(name, algorithm, hash, Buffer.from(secret, 'base64')));
  }
  if (keys.length === 0)
    throw new HaloError(
      'HALO_E_SECRET',
      `TSIG key file ${source} holds no key statement; create it with \`tsig-keygen -a hmac-sha256 NAME > ${source}\``,
      { file: source },
    );
  if (keyName === undefined) {
    if (keys.length > 1)
      throw new HaloError('HALO_E_SECRET', `TSIG key file ${source} holds several keys; set keyName`, {
        file: source,
        keys: keys.map((k) => k.name),
      });
    return keys[0] as TsigKey;
  }
  const wanted = keys.find((k) => k.name.replace(/\.$/, '') === keyName.replace(/\.$/, ''));
  if (!wanted)
    throw new HaloError('HALO_E_SECRET', `TSIG key file ${source} has no key named "${keyName}"`, {
      file: source,
      keys: keys.map((k) => k.name),
    });
  return wanted;
}

/** Reads the key file, refusing one other users can read (like the cluster key). */
export function readKeyFile(path: string, keyName?: string): TsigKey {
  if (!existsSync(path))
    throw new HaloError(
      'HALO_E_SECRET',
      `TSIG key file ${path} does not exist; create it with \`tsig-keygen -a hmac-sha256 NAME > ${path} && chmod 600 ${path}\` and give the same key to the DNS server`,
      { file: path },
    );
  // Same rule as the cluster key (config/load.ts privateFileProblem; importing it here
  // would close an import cycle through the resource registry).
  const st = statSync(path);
  const mode = st.mode & 0o777;
  if (!st.isFile())
    throw new HaloError('HALO_E_SECRET', `TSIG key file ${path} is not a regular file`, { file: path });
  if ((mode & 0o077) !== 0)
    throw new HaloError(
      'HALO_E_SECRET',
      `TSIG key file ${path} has mode 0${mode.toString(8)} and other users can read it; run \`chmod 600 ${path}\``,
      { file: path },
    );
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HaloError(
      'HALO_E_SECRET',
      `TSIG key file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { file: path },
    );
  }
  return parseKeyFile(text, path, keyName);
}
