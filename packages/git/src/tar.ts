/**
 * A minimal, deterministic ustar writer (PAX records for long names and link targets).
 *
 * Strata writes its own because tar-stream's per-entry machinery cost about 5× `git archive` on a
 * 50,000-file tree (bench/git); this writer batches headers and contents into large chunks.
 */

export interface TarHeader {
  name: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size?: number;
  linkname?: string;
  mtimeMs: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
}

const BLOCK = 512;

function writeString(buf: Buffer, offset: number, length: number, value: string): boolean {
  const bytes = Buffer.byteLength(value);
  if (bytes > length) return false;
  buf.write(value, offset, length, 'utf8');
  return true;
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  const text = Math.floor(value).toString(8).padStart(length - 1, '0');
  buf.write(`${text}\0`, offset, length, 'latin1');
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  for (;;) {
    const candidate = String(len).length + Buffer.byteLength(body);
    if (candidate === len) break;
    len = candidate;
  }
  return `${len}${body}`;
}

function rawHeader(h: TarHeader, typeflag: string, name: string, prefix: string, size: number, linkname: string): Buffer {
  const buf = Buffer.alloc(BLOCK);
  buf.write(name, 0, 100, 'utf8');
  writeOctal(buf, 100, 8, h.mode);
  writeOctal(buf, 108, 8, h.uid);
  writeOctal(buf, 116, 8, h.gid);
  writeOctal(buf, 124, 12, size);
  writeOctal(buf, 136, 12, h.mtimeMs / 1000);
  buf.write('        ', 148, 8, 'latin1');
  buf.write(typeflag, 156, 1, 'latin1');
  buf.write(linkname, 157, 100, 'utf8');
  buf.write('ustar\u000000', 257, 8, 'latin1');
  buf.write(h.uname, 265, 32, 'utf8');
  buf.write(h.gname, 297, 32, 'utf8');
  buf.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += buf[i]!;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return buf;
}

/** Splits a path into ustar `prefix` + `name`, or returns undefined when it does not fit. */
function splitName(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { prefix, name };
  }
  return undefined;
}

function pad(size: number): Buffer {
  const rem = size % BLOCK;
  return Buffer.alloc(rem === 0 ? 0 : BLOCK - rem);
}

/** The header block(s) of one entry (a PAX header first when a name or link does not fit). */
export function encodeHeader(h: TarHeader): Buffer[] {
  const typeflag = h.type === 'directory' ? '5' : h.type === 'symlink' ? '2' : '0';
  const size = h.type === 'file' ? (h.size ?? 0) : 0;
  const linkname = h.linkname ?? '';
  const split = splitName(h.name);
  const linkFits = Buffer.byteLength(linkname) <= 100;
  if (split && linkFits) return [rawHeader(h, typeflag, split.name, split.prefix, size, linkname)];
  let records = '';
  if (!split) records += paxRecord('path', h.name);
  if (!linkFits) records += paxRecord('linkpath', linkname);
  const body = Buffer.from(records, 'utf8');
  const paxName = `PaxHeader/${h.name.slice(-80)}`.slice(0, 99);
  const pax = rawHeader({ ...h, uname: h.uname, gname: h.gname }, 'x', paxName.replace(/[^\x20-\x7e]/g, '_'), '', body.length, '');
  const shortName = split ? split : { prefix: '', name: Buffer.from(h.name).subarray(-100).toString('utf8') };
  const shortLink = linkFits ? linkname : '';
  void writeString;
  return [pax, body, pad(body.length), rawHeader(h, typeflag, shortName.name, shortName.prefix, size, shortLink)];
}

export function contentPadding(size: number): Buffer {
  return pad(size);
}

/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(BLOCK * 2);
