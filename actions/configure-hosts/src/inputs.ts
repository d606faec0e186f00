/** configure-hosts' inputs, read and checked in one place. */
import { badInput } from '../../lib/errors.js';
import type { Inputs } from '../../lib/inputs.js';
import { ENVIRONMENT_NAME } from '../../lib/terraform/inputs.js';

export interface ConfigureInputs {
  environment: string;
  playbook: string;
  inventory?: string;
  limit?: string;
  tags: string[];
  skipTags: string[];
  check: boolean;
  diff: boolean;
  extraVars: Record<string, unknown>;
  vaultPassword?: string;
  sshPrivateKey?: string;
  knownHosts?: string;
  hostKeyChecking: boolean;
  forks: number;
  comment: boolean;
  githubToken?: string;
}

export function readInputs(inputs: Inputs, runner: { eventName: string }): ConfigureInputs {
  const environment = inputs.string('environment', {
    required: true,
    pattern: ENVIRONMENT_NAME,
    describe: 'the name of a file in environments/, such as production',
  });
  const limit = inputs.optional('limit');
  const inventory = inputs.optional('inventory');
  const knownHosts = inputs.optional('known-hosts');
  const vaultPassword = inputs.secret('vault-password');
  const sshPrivateKey = inputs.secret('ssh-private-key');
  const githubToken = inputs.secret('github-token');
  const hostKeyChecking = inputs.boolean('host-key-checking', { default: true });
  if (!hostKeyChecking && knownHosts) {
    throw badInput(
      'host-key-checking',
      'is false while known-hosts is given',
      'either known-hosts (checked) or host-key-checking: false, not both',
    );
  }
  return {
    environment,
    playbook: inputs.string('playbook', { default: 'ansible/playbooks/site.yml' }),
    ...(inventory ? { inventory } : {}),
    ...(limit ? { limit } : {}),
    tags: inputs.list('tags'),
    skipTags: inputs.list('skip-tags'),
    check: inputs.boolean('check', { default: runner.eventName === 'pull_request' }),
    diff: inputs.boolean('diff', { default: true }),
    extraVars: inputs.yamlMap('extra-vars'),
    ...(vaultPassword ? { vaultPassword } : {}),
    ...(sshPrivateKey ? { sshPrivateKey } : {}),
    ...(knownHosts ? { knownHosts } : {}),
    hostKeyChecking,
    forks: inputs.integer('forks', { default: 10, min: 1, max: 100 }),
    comment: inputs.boolean('comment', { default: true }),
    ...(githubToken ? { githubToken } : {}),
  };
}
