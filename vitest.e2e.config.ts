import { defineConfig } from 'vitest/config';

/**
 * `npm run test:e2e`: labelguard against a real kube-apiserver and etcd built from source
 * (test/e2e/apiserver/build.sh, cached in ~/.cache/labelguard/k8s/<version>/). Each file starts its
 * own control plane; files run one after another, as two cores allow.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/apiserver/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    env: {
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLETESTONLY',
      AWS_SECRET_ACCESS_KEY: 'test-secret-not-real',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NO_COLOR: '1',
    },
  },
});
