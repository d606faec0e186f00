/**
 * configure-hosts: runs ansible-playbook on an environment's hosts, in check + diff mode on pull requests,
 * for real on merge. Secrets go to 0600 files that are always removed; results come from the spark_jsonl
 * callback's JSON lines, never from Ansible's text.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { stringify } from 'yaml';
import { type ActionOutcome, outputDir, type RunnerDeps } from '../../lib/action-deps.js';
import { inventoryYaml } from '../../lib/ansible-inventory.js';
import { loadEnvironment } from '../../lib/environments/index.js';
import { ActionError, badInput } from '../../lib/errors.js';
import { execCommand, lastLines, requireExecutable } from '../../lib/exec.js';
import {
  commentBodyBudget,
  type EventPullRequest,
  upsertPullRequestComment,
} from '../../lib/github/index.js';
import { SUMMARY_LIMIT_BYTES } from '../../lib/markdown.js';
import { withHeartbeat } from '../../lib/progress.js';
import { createSecretFiles } from '../../lib/secrets.js';
import { failedHosts, type RunResults, readEvents } from './events.js';
import type { ConfigureInputs } from './inputs.js';
import { graphHosts } from './inventory-graph.js';
import { renderReport } from './report.js';

export const ACTION = 'configure-hosts';
export const ANSIBLE_HINT =
  'Install ansible-core on the runner (Debian: apt install ansible-core), or run scripts/setup-system.sh.';

export interface ConfigureDeps extends RunnerDeps {
  pullRequest?: EventPullRequest;
  /** Writes an error annotation (core.error). */
  annotate: (message: string, properties: { title: string; file?: string; startLine?: number }) => void;
}

function inRepo(root: string, path: string, input: string): string {
  const full = isAbsolute(path) ? path : join(root, path);
  if (!existsSync(full))
    throw badInput(
      input,
      `is '${path}', which does not exist`,
      'a path relative to the repository root, or absolute',
    );
  return full;
}

export async function runConfigureHosts(
  inputs: ConfigureInputs,
  deps: ConfigureDeps,
): Promise<ActionOutcome> {
  const playbook = inRepo(deps.root, inputs.playbook, 'playbook');
  const inventoryGiven = inputs.inventory ? inRepo(deps.root, inputs.inventory, 'inventory') : undefined;
  const knownHosts = inputs.knownHosts ? inRepo(deps.root, inputs.knownHosts, 'known-hosts') : undefined;
  const ansiblePlaybook = requireExecutable('ansible-playbook', ANSIBLE_HINT);
  const ansibleInventory = requireExecutable('ansible-inventory', ANSIBLE_HINT);
  const outDir = outputDir(deps, ACTION, inputs.environment, 'ansible');
  let inventory = inventoryGiven;
  // The environment file gives the subnet (group_vars/all reads spark_subnet for the firewall); an inventory
  // from apply-infra carries only the hosts.
  const environment = await loadEnvironment(inputs.environment, { root: deps.root }).catch((error) => {
    if (!inventory) throw error;
    deps.log(
      `environments/${inputs.environment}.yaml did not load (${(error as Error).message}); spark_subnet stays unset.`,
    );
    return undefined;
  });
  const environmentVars = join(outDir, 'environment-vars.yml');
  writeFileSync(
    environmentVars,
    `# From environments/${inputs.environment}.yaml.\n${stringify({ all: { vars: environment ? { spark_subnet: environment.network.subnet } : {} } })}`,
  );
  if (!inventory) {
    inventory = join(outDir, 'inventory.yml');
    const hosts = Object.fromEntries(
      (environment?.hosts ?? []).map((h) => [h.name, { ip: h.ip, role: h.role, groups: h.groups }]),
    );
    writeFileSync(
      inventory,
      inventoryYaml(hosts, inputs.environment, `environments/${inputs.environment}.yaml`),
    );
    deps.log(`No inventory given: generated ${inventory} from environments/${inputs.environment}.yaml.`);
  }

  const ansibleDir = join(deps.root, 'ansible');
  const eventsPath = join(outDir, 'events.jsonl');
  writeFileSync(eventsPath, '');
  const files = createSecretFiles();
  try {
    const sshArgs = ['-o ControlMaster=no', '-o BatchMode=yes', '-o ConnectTimeout=20'];
    if (!inputs.hostKeyChecking)
      sshArgs.push('-o StrictHostKeyChecking=no', '-o UserKnownHostsFile=/dev/null');
    else {
      sshArgs.push('-o StrictHostKeyChecking=yes');
      if (knownHosts) sshArgs.push(`-o UserKnownHostsFile=${knownHosts}`);
    }
    const env: Record<string, string> = {
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_HOST_KEY_CHECKING: inputs.hostKeyChecking ? 'True' : 'False',
      ANSIBLE_SSH_ARGS: sshArgs.join(' '),
      ANSIBLE_CALLBACKS_ENABLED: 'spark_jsonl',
      ANSIBLE_CALLBACK_PLUGINS: join(ansibleDir, 'plugins', 'callback'),
      SPARK_ANSIBLE_EVENTS: eventsPath,
      ...(existsSync(join(ansibleDir, 'ansible.cfg'))
        ? { ANSIBLE_CONFIG: join(ansibleDir, 'ansible.cfg') }
        : {}),
    };
    const common = ['-i', inventory, '-i', environmentVars];
    if (inputs.vaultPassword)
      common.push('--vault-password-file', files.write('vault-password', inputs.vaultPassword));
    const run = (argv: string[], label: string, echo = true) =>
      execCommand(argv, {
        env,
        masker: deps.masker,
        label,
        echo,
        log: deps.log,
        cwd: deps.root,
        ...(deps.signal ? { signal: deps.signal } : {}),
      });

    // Up front: the inventory and the playbook must parse, so bad input fails before any host is touched.
    // --graph, not --list: the graph names hosts and groups only, while --list would print every variable,
    // vault values decrypted.
    const listed = await run([ansibleInventory, ...common, '--graph'], 'ansible-inventory', false);
    const hostCount = listed.exitCode === 0 ? graphHosts(listed.stdout()).length : 0;
    if (hostCount === 0 || /Unable to parse|No inventory was parsed/i.test(listed.stderr())) {
      throw badInput(
        'inventory',
        `could not be read as an Ansible inventory with hosts (${relative(deps.root, inventory)}):\n${lastLines(listed.stderr(), 8).join('\n')}`,
        'a YAML or INI inventory with at least one host',
      );
    }
    const syntax = await run(
      [ansiblePlaybook, ...common, '--syntax-check', playbook],
      'ansible-syntax',
      false,
    );
    if (syntax.exitCode !== 0) {
      throw badInput(
        'playbook',
        `does not parse (${inputs.playbook}):\n${lastLines(syntax.stderr() + syntax.stdout(), 12).join('\n')}`,
        'a valid Ansible playbook',
      );
    }

    const argv = [ansiblePlaybook, ...common, playbook, '--forks', String(inputs.forks)];
    if (inputs.sshPrivateKey) {
      const key = inputs.sshPrivateKey.endsWith('\n') ? inputs.sshPrivateKey : `${inputs.sshPrivateKey}\n`;
      argv.push('--private-key', files.write('ssh-key', key));
    }
    if (inputs.check) argv.push('--check');
    if (inputs.diff) argv.push('--diff');
    if (inputs.limit) argv.push('--limit', inputs.limit);
    if (inputs.tags.length) argv.push('--tags', inputs.tags.join(','));
    if (inputs.skipTags.length) argv.push('--skip-tags', inputs.skipTags.join(','));
    if (Object.keys(inputs.extraVars).length)
      argv.push('--extra-vars', `@${files.write('extra-vars.json', JSON.stringify(inputs.extraVars))}`);
    deps.log(
      `${inputs.check ? 'Dry run (check + diff)' : 'Run'} of ${inputs.playbook} on ${hostCount} host(s) of ${inputs.environment}.`,
    );
    const result = await deps.group(`ansible-playbook ${inputs.playbook}`, () =>
      withHeartbeat('running ansible-playbook', () => run(argv, 'ansible-playbook'), {
        log: deps.log,
        status: () =>
          lastLines(readFileSync(eventsPath, 'utf8'), 1)
            .map((l) => safeJson(l)?.task ?? '')
            .join(''),
      }),
    );
    const results = readEvents(readFileSync(eventsPath, 'utf8'));
    return await report(inputs, deps, results, {
      exitCode: result.exitCode,
      outDir,
      eventsPath,
      stderr: lastLines(result.stderr(), 10),
    });
  } finally {
    files.dispose();
  }
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function report(
  inputs: ConfigureInputs,
  deps: ConfigureDeps,
  results: RunResults,
  run: { exitCode: number | null; outDir: string; eventsPath: string; stderr: string[] },
): Promise<ActionOutcome> {
  for (const task of [...results.failedTasks, ...results.unreachableTasks]) {
    const [file, line] = (task.path ?? '').split(/:(?=\d+$)/);
    deps.annotate(
      deps.masker.mask(`${task.status} on ${task.host}: ${(task.msg ?? task.stderr ?? '').split('\n')[0]}`),
      {
        title: `${task.host}: ${task.task}`,
        ...(file ? { file: isAbsolute(file) ? relative(deps.root, file) : file } : {}),
        ...(line ? { startLine: Number(line) } : {}),
      },
    );
  }
  const reportPath = join(run.outDir, 'report.json');
  writeFileSync(
    reportPath,
    deps.masker.mask(
      JSON.stringify({ environment: inputs.environment, check: inputs.check, ...results }, null, 2),
    ),
  );
  const view = {
    environment: inputs.environment,
    playbook: inputs.playbook,
    check: inputs.check,
    results,
    ...(deps.runUrl ? { runUrl: deps.runUrl } : {}),
    ...(deps.sha ? { sha: deps.sha } : {}),
  };
  const outputs: Record<string, string | number | boolean> = {
    ...results.totals,
    'hosts-json': JSON.stringify(
      Object.fromEntries(results.hosts.map(({ host, ...counts }) => [host, counts])),
    ),
    'failed-hosts': failedHosts(results).join(','),
    'report-path': reportPath,
  };
  if (inputs.check && inputs.comment && deps.pullRequest && deps.github) {
    const key = inputs.environment;
    const data = { check: true, changed: results.totals.changed, failed: results.totals.failed };
    const comment = await upsertPullRequestComment(deps.github.client, deps.github.repo, {
      issueNumber: deps.pullRequest.number,
      action: ACTION,
      key,
      data,
      body: deps.masker.mask(renderReport(view, commentBodyBudget(ACTION, key, data))),
    });
    outputs['comment-url'] = comment.url;
  }
  let failure: ActionError | undefined;
  if (results.totals.unreachable > 0) {
    failure = new ActionError(
      'unreachable',
      `Unreachable: ${results.hosts
        .filter((h) => h.unreachable)
        .map((h) => h.host)
        .join(', ')}. Check the address, SSH key and known_hosts.`,
    );
  } else if (results.totals.failed > 0) {
    failure = new ActionError(
      'failed-tasks',
      `${results.failedTasks.length} task(s) failed on ${failedHosts(results).join(', ')}; see the annotations and the job summary.`,
    );
  } else if (run.exitCode !== 0) {
    failure = new ActionError(
      'command-failed',
      `ansible-playbook exited with code ${run.exitCode}:\n${run.stderr.join('\n')}`,
    );
  }
  return {
    outputs,
    summary: renderReport(view, Math.floor(SUMMARY_LIMIT_BYTES / 2)),
    ...(failure ? { failure } : {}),
  };
}
