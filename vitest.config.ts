import { defineConfig } from 'vitest/config';

// One test run for the whole workspace. Packages are consumed from source through the
// `@strata/source` export condition, so no build step is needed before testing.
export default defineConfig({
  resolve: { conditions: ['@strata/source'] },
  ssr: { resolve: { conditions: ['@strata/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
