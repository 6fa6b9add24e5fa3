import { defineConfig } from 'vitest/config';

// Four projects: pure logic (fast, no cluster), integration against a real API server
// (the local control plane, or KUBECONFIG), the slow scaffold builds, and the disruptive
// suites, which restart the API server or break connections to it.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'cluster/**/*.test.ts', 'test/unit/**/*.test.ts', 'test/support/**/*.test.ts'],
          // Above the render worker's own 10 s deadline (src/templates/isolate.ts): a test that
          // renders, or spawns the CLI, must fail on the code's limits, not on vitest's 5 s
          // default when a loaded machine makes it slow.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/cluster.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          name: 'scaffolds',
          include: ['test/scaffolds/**/*.test.ts'],
          testTimeout: 1_200_000,
          hookTimeout: 1_200_000,
        },
      },
      {
        test: {
          name: 'disruptive',
          include: ['test/disruptive/**/*.test.ts'],
          globalSetup: ['test/setup/cluster.ts'],
          // An API server restart would fail whatever else talks to it at that moment: these
          // files run after every other project has finished, and one at a time.
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
