import { DockerfileParser } from 'dockerfile-ast';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyzeDockerfile,
  contextSources,
  dependencyBuildArgs,
  dockerfileStageInputs,
  escapeCharacterOf,
  expandVariables,
  normalizeCopySource,
  parseDockerignore,
  sourceKey,
  stagesNeededByTarget,
  type AnalyzedDockerfile,
} from '../src/dockerfile/index.js';
import { DigestError, hashInputs } from '../src/digest/index.js';

const vars = (record: Record<string, string>) => (name: string): string | undefined => record[name];

describe('expandVariables', () => {
  it('expands $VAR, ${VAR} and the default/alternative forms', () => {
    const lookup = vars({ A: 'x', EMPTY: '' });
    expect(expandVariables('$A-${A}', lookup)).toBe('x-x');
    expect(expandVariables('${MISSING:-d} ${EMPTY:-d} ${EMPTY-d}', lookup)).toBe('d d ');
    expect(expandVariables('${A:+yes} ${MISSING:+yes}|${EMPTY+set}', lookup)).toBe('yes |set');
    expect(expandVariables('${MISSING:-${A}}', lookup)).toBe('x');
    expect(expandVariables('$MISSING.$1', lookup)).toBe('.$1');
  });

  it('does not expand in single quotes or after the escape character', () => {
    const lookup = vars({ A: 'x' });
    expect(expandVariables("'$A' \"$A\" \\$A", lookup)).toBe("'$A' \"x\" \\$A");
  });
});

/** Digest inputs with a fixed checksum for every COPY/ADD, for tests that only look at instructions. */
function inputsOf(dockerfile: AnalyzedDockerfile, cacheVersion?: string): string {
  const sourceChecksums = Object.fromEntries(
    contextSources(dockerfile).map((entry) => [sourceKey(entry.stage, entry.instruction), `sum(${entry.sources.join(',')})`]),
  );
  return hashInputs(dockerfileStageInputs(dockerfile, { sourceChecksums, cacheVersion }));
}

const BASE = `ARG BASE=alpine:3.18
FROM $BASE AS build
ARG VERSION=1
ENV APP=/app
RUN echo building $VERSION into $APP
COPY src/ $APP/src/

FROM build AS test
RUN make test

FROM nginx:1.25
COPY --from=build /app /usr/share/nginx/html
CMD ["nginx", "-g", "daemon off;"]
`;

describe('analyzeDockerfile', () => {
  it('expands ARG and ENV into instructions and FROM', () => {
    const dockerfile = analyzeDockerfile(BASE, { path: 'Dockerfile', target: 'build' });
    const build = dockerfile.stages[0];
    expect(build?.base).toBe('alpine:3.18');
    expect(build?.instructions.map((instruction) => instruction.text)).toEqual([
      'ARG VERSION=1',
      'ENV APP=/app',
      'RUN echo building 1 into /app',
      'COPY src/ $APP/src/',
    ]);
    expect(contextSources(dockerfile)).toEqual([{ stage: 0, instruction: 3, sources: ['src/'] }]);
  });

  it('uses build args only where an ARG declares them', () => {
    const plain = inputsOf(analyzeDockerfile(BASE, { path: 'Dockerfile', target: 'build' }));
    const unused = inputsOf(analyzeDockerfile(BASE, { path: 'Dockerfile', target: 'build', buildArgs: { UNUSED: 'x' } }));
    const used = inputsOf(analyzeDockerfile(BASE, { path: 'Dockerfile', target: 'build', buildArgs: { VERSION: '2' } }));
    const meta = analyzeDockerfile(BASE, { path: 'Dockerfile', target: 'build', buildArgs: { BASE: 'debian:12' } });
    expect(unused).toBe(plain);
    expect(used).not.toBe(plain);
    expect(meta.stages[0]?.base).toBe('debian:12');
  });

  it('ignores comments, blank lines, continuations and spacing', () => {
    const messy = `# syntax=docker/dockerfile:1
ARG   BASE=alpine:3.18
# the build stage
FROM   $BASE   AS build

ARG VERSION=1
ENV APP=/app
RUN echo building \\
  # a comment inside the continuation

      $VERSION   into $APP
COPY  src/   $APP/src/
FROM build AS test
RUN make test
FROM nginx:1.25
COPY --from=build /app /usr/share/nginx/html
CMD [ "nginx","-g",  "daemon off;" ]
`;
    const target = undefined;
    expect(inputsOf(analyzeDockerfile(messy, { path: 'Dockerfile', target }))).toBe(
      inputsOf(analyzeDockerfile(BASE, { path: 'Dockerfile', target })),
    );
    const changed = BASE.replace('make test', 'make check');
    // the final stage does not need `test`, so changing it does not change the digest…
    expect(inputsOf(analyzeDockerfile(changed, { path: 'Dockerfile' }))).toBe(inputsOf(analyzeDockerfile(BASE, { path: 'Dockerfile' })));
    // …but it does for the `test` target
    expect(inputsOf(analyzeDockerfile(changed, { path: 'Dockerfile', target: 'test' }))).not.toBe(
      inputsOf(analyzeDockerfile(BASE, { path: 'Dockerfile', target: 'test' })),
    );
  });

  it('includes the stages the target builds on or copies from, and nothing else', () => {
    const dockerfile = analyzeDockerfile(BASE, { path: 'Dockerfile' });
    expect(stagesNeededByTarget(dockerfile).map((stage) => stage.index)).toEqual([0, 2]);
    const labels = dockerfileStageInputs(dockerfile, { sourceChecksums: { [sourceKey(0, 3)]: 's' } }).map((entry) => entry.label);
    expect(labels[0]).toBe('stage #2 base image');
    expect(labels).toContain('stage build instruction[2] RUN');
    expect(labels.some((label) => label.startsWith('stage test'))).toBe(false);
    // COPY --from has no source checksum
    expect(contextSources(dockerfile)).toHaveLength(1);
  });

  it('changes with the cache version', () => {
    const dockerfile = analyzeDockerfile(BASE, { path: 'Dockerfile' });
    expect(inputsOf(dockerfile, 'v2')).not.toBe(inputsOf(dockerfile));
  });

  it('fails with a typed error naming the Dockerfile and the unknown target', () => {
    try {
      analyzeDockerfile(BASE, { path: 'docker/app.Dockerfile', target: 'release' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DigestError);
      expect((error as DigestError).code).toBe('DOCKERFILE_TARGET_NOT_FOUND');
      expect((error as DigestError).message).toContain('docker/app.Dockerfile');
      expect((error as DigestError).message).toContain('release');
      expect((error as DigestError).data).toMatchObject({ dockerfile: 'docker/app.Dockerfile', target: 'release' });
    }
  });

  it('reads every name of a multi-name ARG and seeds platform args', () => {
    const text = 'ARG A=1 B=2\nFROM alpine:3.18\nARG A B TARGETARCH MSG="hello  world"\nRUN echo $A $B $TARGETARCH $MSG\n';
    const dockerfile = analyzeDockerfile(text, { path: 'Dockerfile', platform: 'linux/arm64' });
    expect(dockerfile.stages[0]?.instructions.map((instruction) => instruction.text)).toEqual([
      'ARG A=1',
      'ARG B=2',
      'ARG TARGETARCH=arm64',
      'ARG MSG=hello  world',
      'RUN echo 1 2 arm64 hello  world',
    ]);
  });

  it('rejects a Dockerfile without FROM', () => {
    expect(() => analyzeDockerfile('RUN true\n', { path: 'Dockerfile' })).toThrow(/no FROM/);
  });
});

describe('context helpers', () => {
  it('parses .dockerignore lines', () => {
    expect(parseDockerignore('# c\n\nnode_modules\r\n  *.log  \n!keep.log\n')).toEqual(['node_modules', '*.log', '!keep.log']);
  });

  it('normalises COPY sources', () => {
    expect(normalizeCopySource('./src/')).toBe('src');
    expect(normalizeCopySource('.')).toBe('**');
    expect(normalizeCopySource('/etc/x')).toBe('etc/x');
    expect(normalizeCopySource('a/./b//c/')).toBe('a/b/c');
    expect(normalizeCopySource('/')).toBe('**');
    expect(normalizeCopySource('https://example.com/a.tgz')).toBeUndefined();
  });
});

describe('dependencyBuildArgs', () => {
  it('sets each targetBuildArg from the dependency image refs', () => {
    const args = dependencyBuildArgs(
      {
        dependencies: [
          {
            image: 'base',
            imports: [
              { type: 'ImageName', targetBuildArg: 'BASE_IMAGE' },
              { type: 'ImageDigest', targetBuildArg: 'BASE_DIGEST' },
              { type: 'ImageTag', targetEnv: 'IGNORED' },
            ],
          },
        ],
      },
      (image) => ({ name: `repo:${image}-tag`, repo: 'repo', tag: `${image}-tag`, id: 'sha256:id', digest: 'sha256:dg' }),
    );
    expect(args).toEqual({ BASE_IMAGE: 'repo:base-tag', BASE_DIGEST: 'sha256:dg' });
  });
});

describe('escapeCharacterOf', () => {
  const line = fc.constantFrom(
    '# escape=`', '#escape=\\', '# escape = `', '  # escape=`', '# ESCAPE=`', '# escape=x', '# escape=', '# syntax=docker/dockerfile:1',
    '# check=skip=all', '# just a comment', '#', '', '   ', 'FROM busybox', 'RUN echo `', 'ARG x=1',
  );
  const dockerfile = fc
    .tuple(fc.boolean(), fc.array(line, { maxLength: 6 }), fc.constantFrom('\n', '\r\n'))
    .map(([bom, lines, eol]) => `${bom ? '\uFEFF' : ''}${lines.join(eol)}`);

  it('gives the answer of parsing the whole file with dockerfile-ast', () => {
    fc.assert(
      fc.property(dockerfile, (text) => {
        expect(escapeCharacterOf(text)).toBe(DockerfileParser.parse(text).getEscapeCharacter());
      }),
      { numRuns: 2000, seed: 20_261_122 },
    );
    expect(escapeCharacterOf('# escape=`\nFROM x\n')).toBe('`');
    expect(escapeCharacterOf('FROM x\n# escape=`\n')).toBe('\\');
    expect(escapeCharacterOf('# syntax=a\n\n# escape=`\nFROM x\n')).toBe('\\');
  });
});
