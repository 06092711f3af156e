/**
 * The benchmark project: a git repository with a werf.yaml of N Dockerfile images, each with its own
 * small Dockerfile (FROM busybox:local, two RUNs, a COPY of its files) and a few files of distinct
 * content. The content is a pure function of the image index and `salt`; a new salt gives images no
 * builder cache can answer (that is how the cold builds are made cold).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { prng } from '../git/generate.js';

export interface DockerBenchProject {
  dir: string;
  project: string;
  /** Image names, `img-00` … */
  images: string[];
}

export interface GenerateOptions {
  /** werf project name (the Docker repository of the stages). */
  project: string;
  /** Number of images. */
  images: number;
  /** Folded into every file, so each salt gives images of their own. */
  salt: string;
  /** Files per image. @default 4 */
  filesPerImage?: number | undefined;
}

export const BASE_IMAGE = 'busybox:local';

function imageName(i: number): string {
  return `img-${String(i).padStart(2, '0')}`;
}

function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function git(dir: string, args: string[]): void {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@strata.invalid',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@strata.invalid',
    GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
    GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
  };
  const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
}

/** Writes the project into `dir` (which must not exist or be empty) and commits it on `main`. */
export function generateProject(dir: string, options: GenerateOptions): DockerBenchProject {
  const files = options.filesPerImage ?? 4;
  mkdirSync(dir, { recursive: true });
  const docs = [`project: ${options.project}\nconfigVersion: 1\n`];
  const images: string[] = [];
  for (let i = 0; i < options.images; i++) {
    const name = imageName(i);
    images.push(name);
    const random = prng(hashSeed(`${options.salt}/${name}`));
    const imageDir = path.join(dir, name);
    mkdirSync(path.join(imageDir, 'files'), { recursive: true });
    for (let f = 0; f < files; f++) {
      const lines = Array.from({ length: 20 + Math.floor(random() * 40) }, (_, l) => `${options.salt} ${name} file ${f} line ${l} ${random().toString(36).slice(2)}`);
      writeFileSync(path.join(imageDir, 'files', `f${f}.txt`), `${lines.join('\n')}\n`);
    }
    writeFileSync(
      path.join(imageDir, 'Dockerfile'),
      [
        `FROM ${BASE_IMAGE}`,
        `RUN mkdir -p /app/${name} && echo "${options.salt} ${name}" > /app/${name}/id`,
        `COPY files/ /app/${name}/`,
        `RUN cat /app/${name}/*.txt | wc -c > /app/${name}/size`,
        `WORKDIR /app/${name}`,
        `CMD ["cat", "/app/${name}/id"]`,
        '',
      ].join('\n'),
    );
    docs.push(`image: ${name}\ndockerfile: Dockerfile\ncontext: ${name}\n`);
  }
  writeFileSync(path.join(dir, 'werf.yaml'), docs.join('---\n'));
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', `bench project ${options.salt}`]);
  return { dir, project: options.project, images };
}
