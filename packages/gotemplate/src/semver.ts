/** Masterminds/semver v3 versions and constraints, as sprig's `semver`/`semverCompare` use them. */
import { GoCallError } from './value.js';

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
  metadata: string;
  original: string;
  canonical: string;
}

const VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function parseVersion(s: string): Version {
  const m = VERSION.exec(s);
  if (!m) throw new GoCallError('Invalid Semantic Version');
  const v: Version = {
    major: Number(m[1]),
    minor: Number(m[2] ?? 0),
    patch: Number(m[3] ?? 0),
    prerelease: m[4] ?? '',
    metadata: m[5] ?? '',
    original: s,
    canonical: '',
  };
  v.canonical = `${v.major}.${v.minor}.${v.patch}${v.prerelease ? '-' + v.prerelease : ''}${v.metadata ? '+' + v.metadata : ''}`;
  return v;
}

function comparePre(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const x = as[i];
    const y = bs[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      if (Number(x) !== Number(y)) return Number(x) < Number(y) ? -1 : 1;
    } else if (xn) return -1;
    else if (yn) return 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function compareVersions(a: Version, b: Version): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  return comparePre(a.prerelease, b.prerelease);
}

interface Partial {
  v: Version;
  /** How many of major/minor/patch were given as numbers (wildcards count as missing). */
  given: number;
}

function parsePartial(s: string): Partial {
  const parts = s.replace(/^v/, '').split(/[-+]/)[0]?.split('.') ?? [];
  let given = 0;
  for (const p of parts.slice(0, 3)) {
    if (/^\d+$/.test(p)) given++;
    else break;
  }
  const wild = /^(x|X|\*)$/;
  const nums = parts.map((p) => (wild.test(p) ? '0' : p));
  const rest = s.replace(/^v/, '').slice((parts.join('.')).length);
  const v = parseVersion(nums.join('.') + rest);
  if (parts.length === 0 || wild.test(parts[0] ?? '')) given = 0;
  return { v, given };
}

type Check = (v: Version) => boolean;

function bump(p: Partial, level: 'major' | 'minor'): Version {
  const v = p.v;
  if (level === 'major') return parseVersion(`${v.major + 1}.0.0`);
  return parseVersion(`${v.major}.${v.minor + 1}.0`);
}

function single(op: string, operand: string): Check {
  const p = parsePartial(operand);
  const cv = p.v;
  const cmp = (v: Version): number => compareVersions(v, cv);
  const preOk = (v: Version): boolean => v.prerelease === '' || cv.prerelease !== '';
  switch (op) {
    case '':
    case '=':
      if (p.given === 0) return (v) => preOk(v);
      if (p.given < 3) {
        const upper = p.given === 1 ? bump(p, 'major') : bump(p, 'minor');
        return (v) => preOk(v) && cmp(v) >= 0 && compareVersions(v, upper) < 0;
      }
      return (v) => cmp(v) === 0;
    case '!=':
      if (p.given < 3 && p.given > 0) {
        const upper = p.given === 1 ? bump(p, 'major') : bump(p, 'minor');
        return (v) => preOk(v) && !(cmp(v) >= 0 && compareVersions(v, upper) < 0);
      }
      return (v) => preOk(v) && cmp(v) !== 0;
    case '>':
      if (p.given < 3 && p.given > 0) {
        const upper = p.given === 1 ? bump(p, 'major') : bump(p, 'minor');
        return (v) => preOk(v) && compareVersions(v, upper) >= 0;
      }
      return (v) => preOk(v) && cmp(v) > 0;
    case '<':
      return (v) => preOk(v) && cmp(v) < 0;
    case '>=':
    case '=>':
      return (v) => preOk(v) && cmp(v) >= 0;
    case '<=':
    case '=<':
      if (p.given < 3 && p.given > 0) {
        const upper = p.given === 1 ? bump(p, 'major') : bump(p, 'minor');
        return (v) => preOk(v) && compareVersions(v, upper) < 0;
      }
      return (v) => preOk(v) && cmp(v) <= 0;
    case '~':
    case '~>': {
      const upper = p.given <= 1 ? bump(p, 'major') : bump(p, 'minor');
      if (p.given === 0) return (v) => preOk(v);
      return (v) => preOk(v) && cmp(v) >= 0 && compareVersions(v, upper) < 0;
    }
    case '^': {
      let upper: Version;
      if (cv.major > 0 || p.given <= 1) upper = bump(p, 'major');
      else if (cv.minor > 0 || p.given === 2) upper = bump(p, 'minor');
      else upper = parseVersion(`0.0.${cv.patch + 1}`);
      if (p.given === 0) return (v) => preOk(v);
      return (v) => preOk(v) && cmp(v) >= 0 && compareVersions(v, upper) < 0;
    }
    default:
      throw new GoCallError(`improper constraint: ${op}${operand}`);
  }
}

const OP = /^\s*(!=|>=|=>|<=|=<|~>|>|<|=|~|\^)?\s*(v?[0-9xX*][0-9A-Za-z.+*-]*)\s*$/;

/** Whether `version` satisfies the constraint string (`>=1.2, <2 || ^3`). */
export function satisfies(constraint: string, version: string): boolean {
  const groups = constraint.split('||').map((g) => {
    const g2 = g.trim().replace(/(\S+)\s+-\s+(\S+)/g, '>= $1, <= $2');
    const parts = g2.split(/\s*,\s*|\s+(?=[<>=!~^])/).filter((p) => p.trim() !== '');
    if (parts.length === 0) throw new GoCallError(`improper constraint: ${constraint}`);
    return parts.map((p) => {
      const m = OP.exec(p);
      if (!m) throw new GoCallError(`improper constraint: ${constraint}`);
      try {
        return single(m[1] ?? '', m[2] ?? '');
      } catch {
        throw new GoCallError(`improper constraint: ${constraint}`);
      }
    });
  });
  let v: Version;
  try {
    v = parseVersion(version.trim() === version ? version : '!');
  } catch {
    throw new GoCallError('Invalid Semantic Version');
  }
  return groups.some((checks) => checks.every((c) => c(v)));
}
