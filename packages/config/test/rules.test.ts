import { describe, expect, it } from 'vitest';
import { expectOk, expectProblemAt, parse, problemsOf, text, unmark } from './kit.js';

describe('syntax and shape', () => {
  it('reports YAML syntax errors at their position', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
shell:
  install: [apk add curl
«---
image: b
from: alpine
`,
      'YAML_SYNTAX',
      { path: 'document 2' },
    );
  });

  it('reports an unknown anchor as a syntax problem at the alias', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: «*missing
`,
      'YAML_SYNTAX',
      { path: 'image "a" → from', message: /unknown anchor/ },
    );
  });

  it('reports duplicate keys naming the first line', () => {
    const problem = expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
«from: ubuntu
`,
      'DUPLICATE_KEY',
      { path: 'image "a" → from', pathSegments: ['from'] },
    );
    expect(problem.message).toContain('line 5');
    expect(problem.related).toEqual([{ line: 5, column: 1, message: '"from" first defined here' }]);
  });

  it('reports duplicate keys in nested mappings', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
docker:
  ENV:
    A: 1
    «A: 2
`,
      'DUPLICATE_KEY',
      { path: 'image "a" → docker.ENV.A' },
    );
  });

  it('reports unknown keys with the closest valid key as hint', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
«shel:
  install: make
`,
      'UNKNOWN_KEY',
      { path: 'image "a" → shel', hint: 'did you mean "shell"?' },
    );
  });

  it('suggests upper-case docker directives and transposed keys', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
docker:
  «volume: [/data]
`,
      'UNKNOWN_KEY',
      { path: 'image "a" → docker.volume', hint: 'did you mean "VOLUME"?' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
git:
- add: /
  to: /app
  «inlcudePaths: [src]
`,
      'UNKNOWN_KEY',
      { path: 'image "a" → git[0].inlcudePaths', hint: 'did you mean "includePaths"?' },
    );
  });

  it('reports unknown meta keys with the meta path form', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
build:
  «platfrom: [linux/amd64]
`,
      'UNKNOWN_KEY',
      { path: 'meta → build.platfrom', hint: 'did you mean "platform"?' },
    );
  });

  it('reports wrong types at the value', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
shell:
  install: «{make: all}
`,
      'INVALID_TYPE',
      { path: 'image "a" → shell.install', message: /string or a list of strings, got a mapping/ },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
final: «"yes please"
`,
      'INVALID_TYPE',
      { path: 'image "a" → final' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
git: «/app
`,
      'INVALID_TYPE',
      { path: 'image "a" → git', message: /must be a list/ },
    );
  });

  it('reports list items of the wrong type with their index', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
shell:
  setup:
  - echo ok
  - «[nested]
`,
      'INVALID_TYPE',
      { path: 'image "a" → shell.setup[1]', pathSegments: ['shell', 'setup', 1] },
    );
  });

  it('reports documents that are neither meta nor image', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
«from: alpine
shell: {install: make}
`,
      'UNKNOWN_DOCUMENT',
      { path: 'document 2' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
«- a list
`,
      'UNKNOWN_DOCUMENT',
    );
  });

  it('reports invalid enum values with a suggestion', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
import:
- image: b
  add: /x
  after: «instal
---
image: b
from: alpine
`,
      'INVALID_VALUE',
      { path: 'image "a" → import[0].after', hint: 'did you mean "install"?' },
    );
  });
});

describe('meta document', () => {
  it('reports a missing meta document', () => {
    expectProblemAt(
      `
«image: a
from: alpine
`,
      'META_MISSING',
      { path: 'meta' },
    );
  });

  it('reports a duplicate meta document naming both', () => {
    const problem = expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
---
«project: other
configVersion: 1
`,
      'META_DUPLICATE',
      { path: 'meta' },
    );
    expect(problem.message).toContain('line 7');
    expect(problem.message).toContain('line 1');
    expect(problem.related).toEqual([{ line: 1, column: 1, message: 'the first meta document' }]);
  });

  it('rejects configVersion other than 1', () => {
    expectProblemAt(
      `
project: demo
configVersion: «2
`,
      'INVALID_CONFIG_VERSION',
      { path: 'meta → configVersion' },
    );
    expectProblemAt(
      `
project: demo
configVersion: «"1"
`,
      'INVALID_CONFIG_VERSION',
    );
  });

  it('requires configVersion and project', () => {
    expectProblemAt(
      `
«project: demo
`,
      'MISSING_KEY',
      { path: 'meta → configVersion' },
    );
    expectProblemAt(
      `
«configVersion: 1
`,
      'MISSING_KEY',
      { path: 'meta → project' },
    );
  });

  it('rejects invalid, empty and too long project names', () => {
    expectProblemAt(
      `
project: «My_Project
configVersion: 1
`,
      'INVALID_PROJECT_NAME',
      { path: 'meta → project', hint: /such as "my-project"/ },
    );
    expectProblemAt(
      `
project: «-demo
configVersion: 1
`,
      'INVALID_PROJECT_NAME',
    );
    expectProblemAt(
      `
project: «""
configVersion: 1
`,
      'INVALID_PROJECT_NAME',
      { message: /must not be empty/ },
    );
    expectProblemAt(
      `
project: «${'a'.repeat(51)}
configVersion: 1
`,
      'INVALID_PROJECT_NAME',
      { message: /at most 50/ },
    );
    expect(expectOk(`project: ${'a'.repeat(50)}\nconfigVersion: 1\n`).project).toHaveLength(50);
  });

  it('validates deploy, cleanup and gitWorktree shapes', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
cleanup:
  keepPolicies:
  - references:
      branch: /.*/
      limit:
        operator: «Xor
`,
      'INVALID_VALUE',
      { path: 'meta → cleanup.keepPolicies[0].references.limit.operator' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
cleanup:
  keepPolicies:
  - references:
      branch: main
      «tag: v1
`,
      'CONFLICTING_KEYS',
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
deploy:
  helmReleaseSlug: «maybe
`,
      'INVALID_TYPE',
      { path: 'meta → deploy.helmReleaseSlug' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
gitWorktree:
  «forceShallow: true
`,
      'UNKNOWN_KEY',
      { hint: 'did you mean "forceShallowClone"?' },
    );
  });
});

describe('imageSpec and cleanup details', () => {
  it('limits build.imageSpec to the global keys', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
build:
  imageSpec:
    config:
      «env: {A: b}
`,
      'UNKNOWN_KEY',
      { path: 'meta → build.imageSpec.config.env', hint: /only allowed in an image's own imageSpec/ },
    );
  });

  it('checks healthcheck numbers and cleanup durations', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
imageSpec:
  config:
    healthcheck:
      test: [CMD, true]
      retries: «-1
`,
      'INVALID_VALUE',
      { path: 'image "a" → imageSpec.config.healthcheck.retries' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
cleanup:
  keepPolicies:
  - references:
      branch: /.*/
    imagesPerReference:
      in: «a week
`,
      'INVALID_VALUE',
      { path: 'meta → cleanup.keepPolicies[0].imagesPerReference.in' },
    );
  });
});

describe('image names', () => {
  it('reports duplicate image names naming both documents', () => {
    const problem = expectProblemAt(
      `
project: demo
configVersion: 1
---
image: backend
from: alpine
---
«image: backend
from: ubuntu
`,
      'DUPLICATE_IMAGE_NAME',
      { path: 'image "backend" → image' },
    );
    expect(problem.message).toContain('document 2 (line 4)');
    expect(problem.message).toContain('document 3 (line 7)');
    expect(problem.related).toEqual([{ line: 4, column: 1, message: '"backend" first defined here' }]);
  });

  it('treats images and artifacts as one namespace and checks multi-name lists', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: [a, b]
from: alpine
---
«artifact: b
from: alpine
`,
      'DUPLICATE_IMAGE_NAME',
    );
  });

  it('rejects the nameless image together with other images', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
«image: ~
from: alpine
---
image: b
from: alpine
`,
      'NAMELESS_IMAGE_NOT_ALONE',
      { path: 'image ~ → image' },
    );
  });

  it('rejects invalid image names', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: «"has space"
from: alpine
`,
      'INVALID_IMAGE_NAME',
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: [a, «~]
from: alpine
`,
      'INVALID_IMAGE_NAME',
      { pathSegments: ['image', 1] },
    );
  });
});

describe('forbidden combinations', () => {
  it('rejects from together with fromImage or fromArtifact', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
«fromImage: b
---
image: b
from: alpine
`,
      'CONFLICTING_KEYS',
      { path: 'image "a" → fromImage' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
«fromArtifact: b
---
artifact: b
from: alpine
`,
      'CONFLICTING_KEYS',
      { path: 'image "a" → fromArtifact' },
    );
  });

  it('requires a base for stapel images', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
«image: a
shell:
  install: make
`,
      'MISSING_KEY',
      { path: 'image "a"' },
    );
  });

  it('rejects shell together with ansible (and ansible itself)', () => {
    const { text: source, marks } = unmark(
      text(`
project: demo
configVersion: 1
---
image: a
from: alpine
shell:
  install: make
«ansible:
  install:
  - debug: {msg: hi}
`),
    );
    const problems = problemsOf(source);
    const at = problems.filter((p) => p.line === marks[0]?.line && p.column === marks[0]?.column).map((p) => p.code);
    expect(at).toEqual(expect.arrayContaining(['UNSUPPORTED_ANSIBLE', 'CONFLICTING_KEYS']));
  });

  it('rejects docker and final in artifacts', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
artifact: a
from: alpine
«docker:
  CMD: [x]
`,
      'ARTIFACT_FORBIDDEN_DIRECTIVE',
      { path: 'artifact "a" → docker' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
artifact: a
from: alpine
«final: false
`,
      'ARTIFACT_FORBIDDEN_DIRECTIVE',
      { path: 'artifact "a" → final' },
    );
  });

  it('rejects before together with after in imports and dependencies', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
import:
- image: b
  add: /x
  before: install
  «after: setup
---
image: b
from: alpine
`,
      'CONFLICTING_KEYS',
      { path: 'image "a" → import[0].after' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
dependencies:
- image: b
  before: install
  «after: setup
---
image: b
from: alpine
`,
      'CONFLICTING_KEYS',
      { path: 'image "a" → dependencies[0].after' },
    );
  });

  it('requires before or after in imports and stapel dependencies', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
dependencies:
- «image: b
  imports:
  - type: ImageName
    targetEnv: B
---
image: b
from: alpine
`,
      'MISSING_KEY',
      { path: 'image "a" → dependencies[0]' },
    );
  });

  it('rejects imports with neither or both of image and artifact', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
import:
- «add: /x
  after: setup
`,
      'MISSING_KEY',
      { path: 'image "a" → import[0]' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
import:
- image: b
  «artifact: b
  add: /x
  after: setup
---
image: b
from: alpine
`,
      'CONFLICTING_KEYS',
      { path: 'image "a" → import[0].artifact' },
    );
  });

  it('rejects mounts sharing a target', () => {
    const problem = expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
mount:
- from: tmp_dir
  to: /var/cache
- from: build_dir
  to: «/var/cache/
`,
      'DUPLICATE_MOUNT_TARGET',
      { path: 'image "a" → mount[1].to' },
    );
    expect(problem.message).toContain('mount[0]');
    expect(problem.related).toEqual([{ line: 8, column: 7, message: 'mount[0] mounts here' }]);
  });

  it('rejects dockerfile mixed with stapel directives', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
dockerfile: Dockerfile
«shell:
  install: make
`,
      'CONFLICTING_KEYS',
      { path: 'image "a" → shell' },
    );
  });

  it('rejects Dockerfile directives in a stapel image', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
«target: build
`,
      'CONFLICTING_KEYS',
      { path: 'image "a" → target' },
    );
  });

  it('rejects image and artifact in one document', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
«artifact: b
from: alpine
`,
      'CONFLICTING_KEYS',
      { pathSegments: ['artifact'] },
    );
  });

  it('rejects Dockerfile-only keys on dependencies of the wrong kind', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
dockerfile: Dockerfile
dependencies:
- image: b
  imports:
  - type: ImageName
    «targetEnv: B
---
image: b
from: alpine
`,
      'CONFLICTING_KEYS',
      { hint: 'Rename "targetEnv" to "targetBuildArg".' },
    );
  });
});

describe('paths', () => {
  it('requires absolute git add and to', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
git:
- add: «src
  to: /app
`,
      'PATH_NOT_ABSOLUTE',
      { path: 'image "a" → git[0].add' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
git:
- add: /src
  to: «app
`,
      'PATH_NOT_ABSOLUTE',
      { path: 'image "a" → git[0].to' },
    );
  });

  it('requires absolute import add and to', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
import:
- image: b
  add: «out/bin
  after: setup
---
image: b
from: alpine
`,
      'PATH_NOT_ABSOLUTE',
      { path: 'image "a" → import[0].add' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
import:
- image: b
  add: /out/bin
  to: «usr/bin
  after: setup
---
image: b
from: alpine
`,
      'PATH_NOT_ABSOLUTE',
      { path: 'image "a" → import[0].to' },
    );
  });

  it('requires absolute mount targets', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
mount:
- from: tmp_dir
  to: «tmp
`,
      'PATH_NOT_ABSOLUTE',
      { path: 'image "a" → mount[0].to' },
    );
  });

  it('rejects context, dockerfile and contextAddFiles that escape the project', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
dockerfile: Dockerfile
context: «../other
`,
      'PATH_ESCAPES_PROJECT',
      { path: 'image "a" → context' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
dockerfile: «/etc/Dockerfile
`,
      'PATH_ESCAPES_PROJECT',
      { path: 'image "a" → dockerfile' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
context: app
dockerfile: «../../Dockerfile
`,
      'PATH_ESCAPES_PROJECT',
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
dockerfile: Dockerfile
contextAddFiles:
- ok.txt
- «../secret.txt
`,
      'PATH_ESCAPES_PROJECT',
      { path: 'image "a" → contextAddFiles[1]' },
      { allowContextAddFiles: true },
    );
  });

  it('resolves the Dockerfile relative to the context, as werf does, to a project path', () => {
    const config = expectOk(text(`
project: demo
configVersion: 1
---
image: a
context: ./app/
dockerfile: ../docker/./Dockerfile
`));
    expect(config.images[0]).toMatchObject({ kind: 'dockerfile', context: 'app', dockerfile: 'docker/Dockerfile' });
    const defaults = expectOk('project: demo\nconfigVersion: 1\n---\nimage: a\ncontext: web\n');
    expect(defaults.images[0]).toMatchObject({ kind: 'dockerfile', context: 'web', dockerfile: 'web/Dockerfile' });
  });
});

describe('references between images', () => {
  const cases = [
    ['fromImage', 'fromImage: «missing'],
    ['fromArtifact', 'fromArtifact: «missing'],
    ['import', 'from: alpine\nimport:\n- image: «missing\n  add: /x\n  after: setup'],
    ['dependencies', 'from: alpine\ndependencies:\n- image: «missing\n  after: setup'],
  ] as const;
  for (const [directive, body] of cases) {
    it(`reports ${directive} naming an image that does not exist`, () => {
      expectProblemAt(
        `
project: demo
configVersion: 1
---
image: a
${body}
---
image: mising
from: alpine
`,
        'UNKNOWN_IMAGE_REFERENCE',
        { hint: 'did you mean "mising"?' },
      );
    });
  }

  it('reads `from: <name>` as a config image and `from: <ref>` as external', () => {
    const config = expectOk(text(`
project: demo
configVersion: 1
---
image: base
from: alpine:3.18
---
image: app
from: base
---
image: scratchy
from: scratch
`));
    expect(config.images.map((i) => i.kind === 'stapel' && i.from)).toEqual([
      { kind: 'external', ref: 'alpine:3.18' },
      { kind: 'image', name: 'base', via: 'from' },
      { kind: 'scratch' },
    ]);
  });

  it('reports dependency cycles with the whole cycle', () => {
    const problem = expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
fromImage: «b
---
image: b
from: alpine
import:
- image: c
  add: /x
  after: setup
---
image: c
from: alpine
dependencies:
- image: a
  before: setup
`,
      'DEPENDENCY_CYCLE',
      { path: 'image "a" → fromImage' },
    );
    expect(problem.message).toBe('dependency cycle: a -> b -> c -> a');
    expect(problem.related).toEqual([
      { line: 10, column: 10, message: 'b -> c (an import)' },
      { line: 17, column: 10, message: 'c -> a (a dependency)' },
    ]);
  });

  it('reports two-image cycles through from', () => {
    const problem = expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: «b
---
image: b
from: a
`,
      'DEPENDENCY_CYCLE',
    );
    expect(problem.message).toBe('dependency cycle: a -> b -> a');
  });

  it('reports self references', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
fromImage: «a
`,
      'SELF_REFERENCE',
      { path: 'image "a" → fromImage' },
    );
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
import:
- image: «a
  add: /x
  after: setup
`,
      'SELF_REFERENCE',
    );
  });

  it('reads `from: <own name>` as an external image, like werf', () => {
    const config = expectOk('project: demo\nconfigVersion: 1\n---\nimage: nginx\nfrom: nginx\n');
    expect(config.images[0]).toMatchObject({ from: { kind: 'external', ref: 'nginx:latest' } });
  });
});

describe('unsupported features', () => {
  it('renders Go templates, and reports a problem in the output at the template line', () => {
    const problem = expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: «{{ .Values.base }}
`,
      'INVALID_VALUE',
      { message: /<no value>/ },
    );
    expect(problem.rendered).toEqual({ line: 5, column: 7, mapped: true });
  });

  it('rejects ansible', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
«ansible:
  install:
  - apk: {name: curl}
`,
      'UNSUPPORTED_ANSIBLE',
      { path: 'image "a" → ansible' },
    );
  });

  it('rejects remote git mappings', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
git:
- «url: https://github.com/werf/werf.git
  add: /
  to: /werf
`,
      'UNSUPPORTED_GIT_URL',
      { path: 'image "a" → git[0].url' },
    );
  });

  it('rejects staged: true and accepts staged: false', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
build:
  staged: «true
`,
      'UNSUPPORTED_STAGED',
      { path: 'meta → build.staged' },
    );
    expect(expectOk('project: demo\nconfigVersion: 1\nbuild:\n  staged: false\n').build.staged).toBe(false);
  });

  it('rejects platforms other than the host one', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
build:
  platform: [linux/amd64, «linux/arm64]
`,
      'UNSUPPORTED_PLATFORM',
      { path: 'meta → build.platform[1]' },
    );
    expect(expectOk('project: demo\nconfigVersion: 1\nbuild:\n  platform: [linux/amd64]\n').build.platform).toEqual(['linux/amd64']);
    expect(expectOk('project: demo\nconfigVersion: 1\nbuild:\n  platform: [linux/arm64]\n', { hostPlatform: 'linux/arm64' }).build.platform).toEqual([
      'linux/arm64',
    ]);
  });

  it('rejects build secrets', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
dockerfile: Dockerfile
«secrets:
- id: npmrc
  src: .npmrc
`,
      'UNSUPPORTED_SECRETS',
      { path: 'image "a" → secrets' },
    );
  });

  it('rejects fromLatest', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
«fromLatest: true
`,
      'UNSUPPORTED_FEATURE',
    );
  });
});

describe('giterminism', () => {
  const fixture = `
project: demo
configVersion: 1
---
image: a
dockerfile: Dockerfile
«contextAddFiles: [generated.env]
`;

  it('rejects contextAddFiles by default', () => {
    expectProblemAt(fixture, 'CONTEXT_ADD_FILES_FORBIDDEN', { path: 'image "a" → contextAddFiles' });
  });

  it('accepts contextAddFiles when allowed', () => {
    const config = expectOk(unmark(text(fixture)).text, { allowContextAddFiles: true });
    expect(config.images[0]).toMatchObject({ contextAddFiles: ['generated.env'] });
  });
});

describe('collecting problems', () => {
  it('reports every problem, in file order, not only the first', () => {
    const { text: source, marks } = unmark(
      text(`
project: «Bad
configVersion: 1
---
image: a
from: alpine
«shel: {}
git:
- add: «src
  to: /app
---
image: b
fromImage: «nope
mount:
- from: «temp_dir
  to: /tmp
`),
    );
    const problems = problemsOf(source);
    expect(problems.map((p) => [p.code, p.line, p.column])).toEqual([
      ['INVALID_PROJECT_NAME', marks[0]?.line, marks[0]?.column],
      ['UNKNOWN_KEY', marks[1]?.line, marks[1]?.column],
      ['PATH_NOT_ABSOLUTE', marks[2]?.line, marks[2]?.column],
      ['UNKNOWN_IMAGE_REFERENCE', marks[3]?.line, marks[3]?.column],
      ['INVALID_VALUE', marks[4]?.line, marks[4]?.column],
    ]);
  });
});

describe('warnings', () => {
  it('returns a valid config with warnings for deprecated spellings', () => {
    const result = parse('project: demo\nconfigVersion: 1\n---\nimage: a\ndockerfile: Dockerfile\ncontextAddFile: [x.env]\n', { allowContextAddFiles: true });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.warnings).toMatchObject([{ code: 'DEPRECATED_DIRECTIVE', severity: 'warning', line: 6, column: 1, hint: 'Rename it to `contextAddFiles`.' }]);
      expect(result.config.images[0]).toMatchObject({ contextAddFiles: ['x.env'] });
    }
  });

  it('rejects a mount with an empty "from"', () => {
    expectProblemAt(
      `
project: demo
configVersion: 1
---
image: a
from: alpine
mount:
- «from:
  to: /cache
`,
      'MISSING_KEY',
      { path: 'image "a" → mount[0].from' },
    );
  });
});

describe('syntax errors and the rest of the file', () => {
  it('still validates the other documents, but skips whole-file checks', () => {
    const problems = problemsOf(
      ['project: demo', 'configVersion: 1', '---', 'image: a', 'from: alpine', 'shel: {}', '---', 'image: b', 'fromImage: c', 'shell: {install: [make}'].join('\n'),
    );
    expect(problems[0]).toMatchObject({ code: 'UNKNOWN_KEY', line: 6, column: 1 });
    const rest = problems.slice(1);
    expect(rest.length).toBeGreaterThan(0);
    for (const problem of rest) expect(problem).toMatchObject({ code: 'YAML_SYNTAX', line: 10 });
  });

  it('gives multi-name images independent copies of the definition', () => {
    const config = expectOk('project: demo\nconfigVersion: 1\n---\nimage: [a, b]\nfrom: alpine\nshell: {install: [make]}\n');
    const [a, b] = config.images;
    if (a?.kind !== 'stapel' || b?.kind !== 'stapel') throw new Error('expected stapel images');
    a.shell.install.push('changed');
    expect(b.shell.install).toEqual(['make']);
  });
});
