/** The inputs plan-infra and apply-infra share, read and checked in one place. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { badInput } from '../errors.js';
import type { Inputs } from '../inputs.js';
import { invalidBackendKeys } from './backend-config.js';

export interface TerraformInputs {
  environment: string;
  /** Relative to the workspace, normalised (`terraform/proxmox`). */
  workingDirectory: string;
  backendConfig: Record<string, string>;
  /** In Terraform's form, whole seconds: `300s`. */
  lockTimeout: string;
  githubToken?: string;
}

export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]*$/;

/** `./terraform/proxmox/` → `terraform/proxmox`; refuses absolute paths and paths that leave the workspace. */
export function normaliseWorkingDirectory(value: string): string {
  const path = normalize(value).replace(/\/+$/, '');
  if (isAbsolute(value) || path === '..' || path.startsWith('../')) {
    throw badInput(
      'working-directory',
      `is '${value}', outside the repository`,
      'a path relative to the repository root',
    );
  }
  return path === '' ? '.' : path;
}

export function readTerraformInputs(inputs: Inputs): TerraformInputs {
  const environment = inputs.string('environment', {
    required: true,
    pattern: ENVIRONMENT_NAME,
    describe: 'the name of a file in environments/, such as production',
  });
  const workingDirectory = normaliseWorkingDirectory(
    inputs.string('working-directory', { default: 'terraform/proxmox' }),
  );
  const backendConfig = inputs.keyValues('backend-config');
  const invalid = invalidBackendKeys(backendConfig);
  if (invalid.length > 0) {
    throw badInput(
      'backend-config',
      `has the key(s) ${invalid.join(', ')}`,
      'key=value lines whose keys are identifiers such as conn_str',
    );
  }
  const lockMs = inputs.durationMs('lock-timeout', { default: '300s', minMs: 0 });
  const githubToken = inputs.secret('github-token');
  return {
    environment,
    workingDirectory,
    backendConfig,
    lockTimeout: `${Math.ceil(lockMs / 1000)}s`,
    ...(githubToken ? { githubToken } : {}),
  };
}

/** Throws bad-input unless the working directory exists in `root` and holds .tf files. */
export function checkWorkingDirectory(root: string, workingDirectory: string): string {
  const dir = join(root, workingDirectory);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw badInput(
      'working-directory',
      `is '${workingDirectory}', which does not exist in the repository`,
      'a folder with a Terraform root module, such as terraform/proxmox',
    );
  }
  if (!readdirSync(dir).some((f) => f.endsWith('.tf') || f.endsWith('.tf.json'))) {
    throw badInput(
      'working-directory',
      `is '${workingDirectory}', which holds no .tf files`,
      'a folder with a Terraform root module, such as terraform/proxmox',
    );
  }
  return dir;
}

/** The marker key of an environment's plan comment: `<environment>:<working-directory>`. */
export function planCommentKey(environment: string, workingDirectory: string): string {
  return `${environment}:${workingDirectory}`;
}
