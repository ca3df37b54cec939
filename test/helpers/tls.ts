/**
 * Test certificates made in-process (no openssl, nothing committed, nothing that expires between
 * runs): a CA and server certificates it signs, as DER built by hand and signed with node:crypto.
 * ECDSA P-256 keys make this take about a millisecond.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

export interface TestCa {
  readonly name: string;
  readonly key: KeyObject;
  /** PEM */
  readonly cert: string;
  /** The PEM, base64-encoded: what kubeconfig's certificate-authority-data and EKS's certificateAuthority.data hold. */
  readonly caData: string;
  readonly spki: Buffer;
}

export interface ServerCert {
  /** PEM */
  readonly key: string;
  /** PEM */
  readonly cert: string;
}

export interface CertOptions {
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

const HOUR = 3_600_000;

export function createTestCa(name = 'labelguard test CA', options: CertOptions = {}): TestCa {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subject = dn(name);
  const der = buildCertificate({
    issuer: subject,
    subject,
    spki,
    signingKey: privateKey,
    notBefore: options.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: options.notAfter ?? new Date(Date.now() + 48 * HOUR),
    extensions: [
      extension('2.5.29.19', true, seq(bool(true))), // basicConstraints CA:TRUE
      extension('2.5.29.15', true, bitString(Buffer.from([0x06]), 1)), // keyUsage keyCertSign, cRLSign
      extension('2.5.29.14', false, octet(keyId(spki))), // subjectKeyIdentifier
    ],
    issuerSpki: spki,
  });
  const cert = pem('CERTIFICATE', der);
  return { name, key: privateKey, cert, caData: Buffer.from(cert).toString('base64'), spki };
}

/** A server certificate signed by `ca`, valid for the given hosts (IP addresses and DNS names). */
export function issueServerCert(
  ca: TestCa,
  hosts: readonly string[] = ['127.0.0.1', 'localhost'],
  options: CertOptions = {},
): ServerCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const san = seq(
    ...hosts.map((h) =>
      isIP(h) === 4 ? tlv(0x87, Buffer.from(h.split('.').map(Number))) : tlv(0x82, Buffer.from(h, 'ascii')),
    ),
  );
  const der = buildCertificate({
    issuer: dn(ca.name),
    subject: dn(hosts[0] ?? 'server'),
    spki,
    signingKey: ca.key,
    notBefore: options.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: options.notAfter ?? new Date(Date.now() + 24 * HOUR),
    extensions: [
      extension('2.5.29.19', true, seq()), // basicConstraints CA:FALSE
      extension('2.5.29.15', true, bitString(Buffer.from([0x80]), 7)), // keyUsage digitalSignature
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage serverAuth
      extension('2.5.29.17', false, san), // subjectAltName
      extension('2.5.29.35', false, seq(tlv(0x80, keyId(ca.spki)))), // authorityKeyIdentifier
    ],
    issuerSpki: ca.spki,
  });
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: pem('CERTIFICATE', der) };
}

// ---------------------------------------------------------------------------------------------
// X.509 in DER

interface CertificateFields {
  readonly issuer: Buffer;
  readonly subject: Buffer;
  readonly spki: Buffer;
  readonly issuerSpki: Buffer;
  readonly signingKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly Buffer[];
}

const ECDSA_WITH_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function buildCertificate(f: CertificateFields): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // version v3
    integer(serial),
    ECDSA_WITH_SHA256,
    f.issuer,
    seq(time(f.notBefore), time(f.notAfter)),
    f.subject,
    f.spki,
    tlv(0xa3, seq(...f.extensions)),
  );
  const signature = sign('sha256', tbs, f.signingKey); // DER-encoded ECDSA signature
  return seq(tbs, ECDSA_WITH_SHA256, bitString(signature, 0));
}

function dn(commonName: string): Buffer {
  return seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octet(value)) : seq(oid(id), octet(value));
}

function keyId(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-01-31T12:00:00.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

function seq(...parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

function integer(value: Buffer): Buffer {
  return tlv(0x02, (value[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

function bool(value: boolean): Buffer {
  return tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

function octet(value: Buffer): Buffer {
  return tlv(0x04, value);
}

function bitString(value: Buffer, unusedBits: number): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), value]));
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [40 * (arcs[0] ?? 0) + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}
