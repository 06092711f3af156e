/**
 * Digest formula vectors. Expected values were computed OUTSIDE this code, in a shell, with the command
 * shown next to each (`s256` = `printf '%s' "$1" | sha256sum`, `s3` = `printf '%s' "$1" | openssl dgst -sha3-224`).
 */
import { describe, expect, it } from 'vitest';
import {
  EMPTY_SHA256,
  beforeInstallStageInputs,
  dockerCommandString,
  dockerInstructionsStageInputs,
  fromStageInputs,
  gitArchiveStageInputs,
  gitCacheStageInputs,
  gitCommitLabel,
  gitLatestPatchStageInputs,
  gitMappingParamsHash,
  hashArgs,
  hashInputs,
  imageSpecStageInputs,
  legacyStageName,
  nextStageDependencies,
  sha256Concat,
  sha3HashArgs,
  shellChecksum,
  stageContentDigest,
  stageDigest,
  userStageInputs,
  cleanPath,
} from '../src/digest/index.js';
import { gitMapping, shell } from './fixtures/digest/kit.js';

const ALPINE_FROM_DIGEST = '3dbd6d44689162ca0ebbdef149f0c467c9ba147c6e9a7759164efc0a';

describe('hashArgs / sha3HashArgs', () => {
  it('hashes nothing as SHA-256 of the empty string', () => {
    // printf '' | sha256sum
    expect(hashArgs()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(EMPTY_SHA256).toBe(hashArgs());
  });

  it('joins with ::: and keeps empty arguments', () => {
    // printf 'a:::' | sha256sum
    expect(hashArgs('a', '')).toBe('fe7442c74ac8c6bafad235eb76dc325d24d78f89419058c59fd80e0d1aad5885');
    expect(hashArgs('a', '')).not.toBe(hashArgs('a'));
  });

  it('hashes bytes as bytes, not as decoded text', () => {
    const bytes = Uint8Array.from([0xff, 0xfe, 0x00]);
    expect(hashArgs(bytes)).toBe(sha256Concat([bytes]));
    expect(hashArgs(bytes)).not.toBe(hashArgs(Buffer.from(bytes).toString('utf8')));
  });

  it('SHA3-224 gives 56 hex characters', () => {
    expect(sha3HashArgs('x')).toMatch(/^[0-9a-f]{56}$/);
  });
});

describe('stageDigest (SPEC vectors)', () => {
  it('from: alpine:3.18 has dependencies sha256("alpine:3.18") and digest 3dbd6d44…', () => {
    const inputs = fromStageInputs({ mounts: [], base: { kind: 'external', ref: 'alpine:3.18' } });
    const dependencies = hashInputs(inputs);
    // printf 'alpine:3.18' | sha256sum
    expect(dependencies).toBe('389a1d5981724e573a24f2791df81b3bf05c91e5f722e20a59dd4c29a49da6b0');
    expect(stageDigest({ stageName: 'from', dependencies })).toBe(ALPINE_FROM_DIGEST);
    // linux/amd64 is left out of the digest
    expect(stageDigest({ stageName: 'from', dependencies, platform: 'linux/amd64' })).toBe(ALPINE_FROM_DIGEST);
  });

  it('beforeInstall [apk add curl] after that from has digest c5d227c3…', () => {
    const inputs = beforeInstallStageInputs(shell({ beforeInstall: ['apk add curl'] }));
    const digest = stageDigest({
      stageName: 'beforeInstall',
      dependencies: hashInputs(inputs),
      prev: { digest: ALPINE_FROM_DIGEST, nextDeps: '' },
    });
    expect(digest).toBe('c5d227c3a88e1180c887beeeb91af88865af7e6e05c014b4ae9fd959');
  });
});

describe('stageDigest (hand-derived vectors)', () => {
  const fromDeps = '389a1d5981724e573a24f2791df81b3bf05c91e5f722e20a59dd4c29a49da6b0';

  it('puts a non-default platform first', () => {
    // s3 "linux/arm64:::1.2:::from:::$(s256 alpine:3.18)"
    expect(stageDigest({ stageName: 'from', dependencies: fromDeps, platform: 'linux/arm64' })).toBe(
      '88970e8ae133a58fdd339ae79a46677657d2a6db8c35e20d70ecb914',
    );
  });

  it('hashes dependency stages under their legacy imports* names', () => {
    expect(legacyStageName('dependenciesBeforeInstall')).toBe('importsBeforeInstall');
    expect(legacyStageName('dependenciesAfterSetup')).toBe('importsAfterSetup');
    expect(legacyStageName('install')).toBe('install');
    // s3 '1.2:::importsBeforeInstall:::x:::3dbd6d44…efc0a:::'
    expect(
      stageDigest({ stageName: 'dependenciesBeforeInstall', dependencies: 'x', prev: { digest: ALPINE_FROM_DIGEST, nextDeps: '' } }),
    ).toBe('5d47af4b5534ce40574deab2b00fae7c8e5b0f7fca582b9c735d3d97');
  });

  it('content digest of a non-git stage: name-content, empty deps, own digest, empty next deps', () => {
    // s3 '1.2:::from-content::::::3dbd6d44…efc0a:::'
    expect(stageContentDigest({ stageName: 'from', digest: ALPINE_FROM_DIGEST, nextDeps: '' })).toBe(
      '096d09c2afe03c25c9ed1a6cd29f4308e4cc5c357b0c12c1ee258a24',
    );
  });
});

describe('shell checksum', () => {
  it('is empty without commands or versions', () => {
    expect(shellChecksum(shell(), 'install')).toBe('');
  });

  it('appends H(<stage>CacheVersion, cacheVersion) after the commands', () => {
    const value = shellChecksum(shell({ beforeInstall: ['a', 'b'], beforeInstallCacheVersion: '1', cacheVersion: '2' }), 'beforeInstall');
    // V=$(s256 '1:::2'); s256 "a:::b:::$V"
    expect(value).toBe('8a959bbae06253755917310f1a0c71b3797fa06114c89b4841c664a8f3017356');
  });

  it('counts a version alone as a non-empty stage', () => {
    expect(shellChecksum(shell({ setupCacheVersion: '3' }), 'setup')).toBe(hashArgs(hashArgs('3')));
  });

  it('install without git mappings is H(shell, H())', () => {
    const inputs = userStageInputs(shell({ install: ['make'] }), { stage: 'install', mappings: [] });
    // S=$(s256 make); s256 "$S:::$(s256 '')"
    expect(hashInputs(inputs)).toBe('4144be6486121536fac11c13e79c4b3087e6bf62bd68e7dfe14c6dc2f03d668b');
  });

  it('install with a mapping that lists no globs hashes an empty checksum for it', () => {
    const inputs = userStageInputs(shell({ install: ['make'] }), { stage: 'install', mappings: [{ to: '/app', checksum: '', globs: [] }] });
    expect(hashInputs(inputs)).toBe(hashArgs(hashArgs('make'), hashArgs('')));
  });
});

describe('from', () => {
  it('hashes cache versions, cleaned mounts and the base in order', () => {
    const inputs = fromStageInputs({
      imageCacheVersion: 'v1',
      fromCacheVersion: 'fv',
      mounts: [
        { type: 'tmp_dir', to: '/var/cache/' },
        { type: 'custom_dir', fromPath: '/home/x/./', to: '/mnt//' },
      ],
      base: { kind: 'scratch' },
    });
    // s256 'v1:::fv:::.:::/var/cache:::tmp_dir:::/home/x:::/mnt:::custom_dir:::scratch'
    expect(hashInputs(inputs)).toBe('e760a4767f7833f14c48dd853204666888a185340de99416de44bea108d8db59');
  });

  it('uses the content digest of a config base image', () => {
    const inputs = fromStageInputs({ mounts: [], base: { kind: 'image', name: 'base', contentDigest: 'abc' } });
    expect(hashInputs(inputs)).toBe(hashArgs('abc'));
  });

  it('cleans paths like Go path.Clean', () => {
    expect(cleanPath('')).toBe('.');
    expect(cleanPath('/a/b/../c/.//d/')).toBe('/a/c/d');
    expect(cleanPath('/../x')).toBe('/x');
    expect(cleanPath('../../x')).toBe('../../x');
    expect(cleanPath('a/..')).toBe('.');
  });
});

describe('git mappings', () => {
  const mapping = gitMapping({ to: '/app', add: '/', includePaths: ['src', 'lib'], owner: 'app' });

  it('params hash concatenates globs and separates fields with :::', () => {
    // s256 'own_own:::/app:::/:::srclib::::::app::::::::::::'
    expect(gitMappingParamsHash(mapping)).toBe('5ae91d0ab13ad75a0324b886d3b76b336f6428565bfce504d97a0b491e9186e7');
    expect(gitCommitLabel(gitMappingParamsHash(mapping))).toBe(
      'werf-git-5ae91d0ab13ad75a0324b886d3b76b336f6428565bfce504d97a0b491e9186e7-commit',
    );
  });

  it('gitArchive is H(sorted params hashes), independent of mapping order', () => {
    const other = gitMapping({ to: '/other' });
    const a = gitMappingParamsHash(mapping);
    const b = gitMappingParamsHash(other);
    const sorted = [a, b].sort();
    expect(hashInputs(gitArchiveStageInputs([mapping, other]))).toBe(hashArgs(...sorted));
    expect(hashInputs(gitArchiveStageInputs([other, mapping]))).toBe(hashArgs(...sorted));
  });

  it('next stage dependencies are H(sorted commits)', () => {
    // s256 'aaaa:::bbbb'
    expect(nextStageDependencies(['bbbb', 'aaaa']).value).toBe('453282055c664fe6a4013382c558c0be4c4336f96a4e2015b6a72244068636c0');
    expect(nextStageDependencies(undefined).value).toBe('');
  });

  it('gitCache exists from 1 MiB and hashes whole MiB', () => {
    expect(gitCacheStageInputs([1024 * 1024 - 1])).toBeUndefined();
    expect(gitCacheStageInputs([600_000, 600_000])?.[0]?.value).toBe('1');
    // s256 '3'
    expect(hashInputs(gitCacheStageInputs([3 * 1024 * 1024 + 5]) ?? [])).toBe(
      '4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce',
    );
  });

  it('gitLatestPatch hashes the patch text per mapping and is empty without changes', () => {
    expect(gitLatestPatchStageInputs([{ to: '/app', bytes: new Uint8Array() }])).toBeUndefined();
    const patch = Buffer.from('diff --git a/x b/x\n');
    const inputs = gitLatestPatchStageInputs([
      { to: '/app', bytes: patch },
      { to: '/b', bytes: new Uint8Array() },
    ]);
    expect(hashInputs(inputs ?? [])).toBe(hashArgs('diff --git a/x b/x\n', ''));
  });
});

describe('dockerInstructions', () => {
  it('is empty without directives', () => {
    expect(dockerInstructionsStageInputs({ volume: [], expose: [], env: {}, label: {} })).toBeUndefined();
  });

  it('sorts ENV pairs and writes list CMD in werf form', () => {
    const inputs = dockerInstructionsStageInputs({ volume: [], expose: [], env: { B: '2', A: '1' }, label: {}, cmd: ['a', 'b'] });
    // s256 'A:::1:::B:::2:::["a", "b"]::::::::::::'
    expect(hashInputs(inputs ?? [])).toBe('4ea93b53afffe5429689977acef019022dc4abf8a8abcb907a658a69be91bac9');
  });

  it('sets CMD to [] when only ENTRYPOINT is given', () => {
    const inputs = dockerInstructionsStageInputs({ volume: [], expose: [], env: {}, label: {}, entrypoint: 'run.sh' }) ?? [];
    expect(inputs.find((entry) => entry.label === 'CMD')?.value).toBe('[]');
    expect(dockerCommandString([])).toBe('[]');
    expect(dockerCommandString('x y')).toBe('x y');
  });
});

describe('imageSpec', () => {
  const config = {
    env: {}, labels: {}, removeLabels: [], removeEnv: [], removeVolumes: [], expose: [], volumes: [],
    clearCmd: false, clearEntrypoint: false, clearWerfLabels: false, removeWerfLabels: false, keepEssentialWerfLabels: false,
  };

  it('hashes an empty spec with werf\'s cache version and Go\'s <nil> healthcheck', () => {
    // s256 '1::::::false:::false::::::::::::::::::<nil>'
    expect(hashInputs(imageSpecStageInputs({ clearHistory: false, config }))).toBe(
      '94533b47c99274854b78fde78964b260f7833ba3ce353ea3cb891d50f5c7089e',
    );
  });

  it('sorts lists and pairs and joins cmd with spaces', () => {
    const inputs = imageSpecStageInputs({
      author: 'me',
      clearHistory: true,
      config: {
        ...config,
        env: { B: '2', A: '1' },
        volumes: ['/data'],
        expose: ['8080'],
        user: 'app',
        cmd: ['run', '--x'],
        entrypoint: [],
        workingDir: '/srv',
        stopSignal: 'SIGTERM',
        healthcheck: { test: ['CMD', 'true'], interval: 5, retries: 3 },
      },
    });
    // s256 '1:::me:::true:::false:::/data:::A:::1:::B:::2:::8080:::app:::run --x::::::/srv:::SIGTERM:::&{[CMD true] 5 0 0 3}'
    expect(hashInputs(inputs)).toBe('855700cd9449ff70aae7a782e2118f4c54a3bd000fbfe53c08595b9e7104ec61');
  });
});
