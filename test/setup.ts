// Runs around every test file: what the code under test writes to RUNNER_TEMP (exec logs, scratch places,
// secret files) and the folders tests make go into folders that are removed when the file ends.
import { chmodSync } from 'node:fs';
import { afterAll } from 'vitest';
import { removeRunHomes } from './support/action-runner.js';
import { removeTempDirs, tempDir } from './support/temp-dir.js';

if (!process.env.RUNNER_TEMP) {
  process.env.RUNNER_TEMP = tempDir('spark-test-runner-temp-');
  // As on a runner, the postgres OS user a drill runs its scratch server as can traverse it.
  chmodSync(process.env.RUNNER_TEMP, 0o711);
}

afterAll(() => {
  removeRunHomes();
  removeTempDirs();
});
