/**
 * `npm run rehearse`: the whole toolkit on this machine, on environments/local.yaml. It starts the embedded
 * services, runs the bundled actions with the inputs the workflows give them (plan-infra, apply-infra with the
 * plan's fingerprint, configure-hosts in check mode then for real with apply-infra's inventory, dr-drill on the
 * local backups), writes each step's summary and outputs to rehearsal/<timestamp>/, reports, and cleans up.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadEnvironment } from '../actions/lib/environments/index.js';
import { ensureHostImage } from './lib/host-image.js';
import {
  LOCAL_BACKUP_DIR,
  LOCAL_DIR,
  LOCAL_HOSTS_DIR,
  LOCAL_SERVICES_DIR,
  LOCAL_SSH_KEY,
} from './lib/local-paths.js';
import {
  connectionString,
  ETCD,
  etcdClientUrl,
  PG_BACKUP_WAL,
  PLATFORM_DB,
  removeBackups,
  runningServices,
  STATE_DB,
  seedPlatformDatabase,
  snapshotEtcd,
  startLocalEtcd,
  startLocalPostgres,
  stopLocalEtcd,
  stopLocalPostgres,
  takeBaseBackup,
  writeAndSwitchWal,
} from './lib/local-services.js';
import { linkExists, removeBridge, runningHostAt, stopHostAt } from './lib/namespace-host.js';
import {
  formatDuration,
  type HostRecap,
  LEFT_TO_PLATFORM,
  REAL_HERE,
  type RehearsalFacts,
  rehearsalPassed,
  renderReport,
} from './lib/rehearsal-report.js';
import { runStep, type StepResult } from './lib/run-step.js';
import { MissingToolError, requireTool, runTool } from './lib/system-tools.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENVIRONMENT = 'local';
const WORKING_DIRECTORY = 'terraform/local';
const PLAYBOOK = 'ansible/playbooks/foundation.yml';

const USAGE = `usage: npm run rehearse [-- --keep | --down | --help]

Runs the Spark toolkit end to end on this machine, on environments/${ENVIRONMENT}.yaml:
  1. starts PostgreSQL for Terraform's state, a sample platform database (WAL archive and a base backup in
     ${LOCAL_BACKUP_DIR}) and etcd (with a snapshot there);
  2. plan-infra, then apply-infra with the plan's fingerprint (${WORKING_DIRECTORY} boots the hosts);
  3. configure-hosts with apply-infra's inventory: ${PLAYBOOK} in check mode, then for real;
  4. dr-drill: restores the backups and measures RTO and RPO against local.yaml's targets;
then reports, writes every step's summary, outputs and log to rehearsal/<timestamp>/, and removes everything
it started. Installs missing system tools with scripts/setup-system.sh first. Runs as root.

Options:
  --keep   leave the hosts and services running, and print how to reach them; the next run reuses them
  --down   only remove what a --keep run left (hosts, services, backups), then exit
  --help   this text

Real here: ${REAL_HERE.join('; ')}.
Left to the real platform: ${LEFT_TO_PLATFORM.join('; ')}.`;

const SYSTEM_TOOLS = [
  'terraform',
  'ansible-playbook',
  'ansible-inventory',
  'etcd',
  'etcdctl',
  'initdb',
  'pg_ctl',
  'pg_basebackup',
  'debootstrap',
  'unshare',
  'nsenter',
  'setpriv',
  'ip',
  'ssh',
  'ssh-keygen',
];

const say = (line = '') => process.stdout.write(`${line}\n`);
const heading = (line: string) => say(`\n==> ${line}`);
const indent = (line: string) => say(`    ${line}`);

/** environments/local.yaml, loaded and checked as the actions load it. */
const localEnvironment = () => loadEnvironment(ENVIRONMENT, { root: ROOT });

/** Streams a command's output, indented; rejects on a non-zero exit. */
function stream(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd = ROOT,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const pipe of [child.stdout, child.stderr]) {
      let rest = '';
      pipe.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) indent(line);
      });
      pipe.on('end', () => rest && indent(rest));
    }
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

async function ensureSystemTools() {
  const missing = SYSTEM_TOOLS.filter((tool) => {
    try {
      requireTool(tool);
      return false;
    } catch (error) {
      if (error instanceof MissingToolError) return true;
      throw error;
    }
  });
  if (missing.length === 0) return;
  heading(`Installing the system tools (missing: ${missing.join(', ')}) with scripts/setup-system.sh`);
  await stream('bash', [join(ROOT, 'scripts/setup-system.sh')]);
}

/** Runs `work`, printing a still-working line every 30 s. */
async function withProgress<T>(what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const timer = setInterval(
    () => indent(`... ${what}: ${formatDuration(Date.now() - started)} so far`),
    30_000,
  );
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

async function ensureSshKey(): Promise<string> {
  if (!existsSync(LOCAL_SSH_KEY)) {
    mkdirSync(join(LOCAL_SSH_KEY, '..'), { recursive: true, mode: 0o700 });
    await runTool(requireTool('ssh-keygen'), [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'spark-local',
      '-f',
      LOCAL_SSH_KEY,
    ]);
  }
  return readFileSync(`${LOCAL_SSH_KEY}.pub`, 'utf8').trim();
}

function backendConfig() {
  return `conn_str=${connectionString(STATE_DB)}\nschema_name=terraform_${ENVIRONMENT}`;
}

function terraformEnv(publicKey: string): Record<string, string> {
  return { TF_VAR_ssh_public_keys: JSON.stringify([publicKey]), TF_IN_AUTOMATION: '1' };
}

function localHostNames(): string[] {
  return existsSync(LOCAL_HOSTS_DIR) ? readdirSync(LOCAL_HOSTS_DIR).sort() : [];
}

/** Starts (or reuses) the services; new ones get their sample data and backups. */
async function startServices() {
  if (await startLocalPostgres(STATE_DB))
    indent(`started ${STATE_DB.name} on 127.0.0.1:${STATE_DB.port} (Terraform state)`);
  else indent(`reusing ${STATE_DB.name} on 127.0.0.1:${STATE_DB.port}`);
  if (await startLocalPostgres(PLATFORM_DB, { walArchive: PG_BACKUP_WAL })) {
    indent(`started ${PLATFORM_DB.name} on 127.0.0.1:${PLATFORM_DB.port}, archiving WAL to ${PG_BACKUP_WAL}`);
    await seedPlatformDatabase();
    indent(`base backup: ${await takeBaseBackup()}`);
    await writeAndSwitchWal();
    indent(
      'wrote more rows after the backup and switched WAL (the drill must replay the archive to see them)',
    );
  } else {
    indent(`reusing ${PLATFORM_DB.name} on 127.0.0.1:${PLATFORM_DB.port} and its backups`);
    // A live platform database is written to all the time; the kept sample was idle since the last run.
    await writeAndSwitchWal();
    indent('wrote new rows and switched WAL, as a database in use would have');
  }
  indent(`${(await startLocalEtcd()) ? 'started' : 'reusing'} etcd on ${etcdClientUrl}`);
  // Every run, as the backup role's timer would: a kept etcd's old snapshot would age past the RPO target.
  indent(`snapshot: ${await snapshotEtcd()}`);
}

/** Removes every host, the bridge, the services and the backups; then checks that nothing is left. */
async function cleanUp(publicKey: string | undefined): Promise<void> {
  heading('Cleaning up');
  const env = await localEnvironment();
  if (runningServices().includes(STATE_DB.name) && publicKey !== undefined) {
    const terraform = requireTool('terraform');
    const tfEnv = { ...process.env, ...terraformEnv(publicKey) };
    const chdir = `-chdir=${join(ROOT, WORKING_DIRECTORY)}`;
    try {
      await stream(
        terraform,
        [
          chdir,
          'init',
          '-input=false',
          '-reconfigure',
          ...backendConfig()
            .split('\n')
            .map((l) => `-backend-config=${l}`),
        ],
        tfEnv,
      );
      await stream(terraform, [chdir, 'destroy', '-auto-approve', '-input=false'], tfEnv);
    } catch (error) {
      indent(`terraform destroy failed (${(error as Error).message}); stopping what is left directly`);
    }
  }
  for (const name of localHostNames()) {
    if (await stopHostAt(join(LOCAL_HOSTS_DIR, name)))
      indent(`stopped ${name}, which Terraform did not destroy`);
  }
  rmSync(LOCAL_HOSTS_DIR, { recursive: true, force: true });
  if (await linkExists(env.network.bridge)) await removeBridge(env.network.bridge);
  await stopLocalEtcd({ remove: true });
  await stopLocalPostgres(PLATFORM_DB, { remove: true });
  await stopLocalPostgres(STATE_DB, { remove: true });
  removeBackups();
  rmSync(LOCAL_SERVICES_DIR, { recursive: true, force: true });
  const left = [
    ...runningServices(),
    ...localHostNames(),
    ...((await linkExists(env.network.bridge)) ? [env.network.bridge] : []),
  ];
  if (left.length > 0) throw new Error(`still running after clean-up: ${left.join(', ')}`);
  indent(
    `nothing left running: hosts, bridge ${env.network.bridge}, PostgreSQL, etcd and the backups are gone`,
  );
  indent(`kept: the host image cache and the SSH key in ${join(LOCAL_SSH_KEY, '..')}`);
}

function recap(outputs: Record<string, string>): HostRecap {
  return {
    ok: Number(outputs.ok ?? 0),
    changed: Number(outputs.changed ?? 0),
    failed: Number(outputs.failed ?? 0),
    unreachable: Number(outputs.unreachable ?? 0),
  };
}

function printAccess(runDir: string) {
  heading('Kept running (--keep). To reach them:');
  for (const name of localHostNames()) {
    const host = runningHostAt(join(LOCAL_HOSTS_DIR, name));
    if (host) {
      indent(
        `${name.padEnd(24)} ssh -i ${LOCAL_SSH_KEY} -o UserKnownHostsFile=${join(runDir, 'known_hosts')} spark@${host.ip}`,
      );
    }
  }
  indent(`Terraform state         psql '${connectionString(STATE_DB)}'`);
  indent(`platform database       psql '${connectionString(PLATFORM_DB)}'`);
  indent(`etcd                    ETCDCTL_API=3 etcdctl --endpoints ${etcdClientUrl} get --prefix /registry`);
  indent(`backups                 ${LOCAL_BACKUP_DIR}`);
  indent('Run `npm run rehearse` again to reuse them, or `npm run rehearse -- --down` to remove them.');
}

async function rehearse(keep: boolean): Promise<boolean> {
  const started = Date.now();
  const stamp = new Date()
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const runDir = join(ROOT, 'rehearsal', stamp);
  mkdirSync(runDir, { recursive: true });
  const env = await localEnvironment();
  const facts: RehearsalFacts = {
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    dir: relative(ROOT, runDir),
    steps: [],
    hosts: [],
  };
  say(`Rehearsing the Spark toolkit on environments/${ENVIRONMENT}.yaml; files in ${facts.dir}/`);
  say('Real here:');
  for (const line of REAL_HERE) say(`  - ${line}`);
  say('Left to the real platform:');
  for (const line of LEFT_TO_PLATFORM) say(`  - ${line}`);

  let publicKey: string | undefined;
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    say('\nInterrupted: finishing the current step, then cleaning up.');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const step = async (name: string, action: string, inputs: Record<string, string>, extraEnv = {}) => {
    if (interrupted) throw new Error('interrupted');
    heading(`${name}`);
    const stepDir = join(runDir, name.replace(/[^a-z0-9-]+/g, '-').replace(/-$/, ''));
    mkdirSync(stepDir, { recursive: true });
    const result = await runStep(action, { root: ROOT, stepDir, inputs, env: extraEnv, onLine: indent });
    return { result, stepDir };
  };
  const record = (name: string, result: StepResult, detail: string) => {
    const ok = result.exitCode === 0;
    facts.steps.push({
      name,
      ok,
      durationMs: result.durationMs,
      detail: ok
        ? detail
        : `${result.outputs['failure-reason'] ?? 'failed'}: ${result.errors[0] ?? 'see log.txt'}`,
    });
    if (!ok)
      throw new Error(`${name} failed (${result.outputs['failure-reason'] ?? `exit ${result.exitCode}`})`);
  };

  try {
    heading('Host image');
    const image = await withProgress('building the Debian host image (first run only, about 5 min)', () =>
      ensureHostImage(),
    );
    indent(`ready: ${image}`);
    heading('Embedded services');
    const servicesStarted = Date.now();
    publicKey = await ensureSshKey();
    await startServices();
    facts.steps.push({
      name: 'services',
      ok: true,
      durationMs: Date.now() - servicesStarted,
      detail: `state-db :${STATE_DB.port}, platform-db :${PLATFORM_DB.port}, etcd :${ETCD.clientPort}`,
    });

    const tfEnv = terraformEnv(publicKey);
    const plan = await step(
      'plan-infra',
      'plan-infra',
      {
        environment: ENVIRONMENT,
        'working-directory': WORKING_DIRECTORY,
        mode: 'plan',
        'backend-config': backendConfig(),
      },
      tfEnv,
    );
    const o = plan.result.outputs;
    facts.plan = {
      add: Number(o['to-add'] ?? 0),
      change: Number(o['to-change'] ?? 0),
      replace: Number(o['to-replace'] ?? 0),
      destroy: Number(o['to-destroy'] ?? 0),
    };
    record(
      'plan-infra',
      plan.result,
      `fingerprint ${(o.fingerprint ?? '').slice(0, 12)}, risk ${o.risk ?? '-'}`,
    );

    const apply = await step(
      'apply-infra',
      'apply-infra',
      {
        environment: ENVIRONMENT,
        'working-directory': WORKING_DIRECTORY,
        'backend-config': backendConfig(),
        'reviewed-fingerprint': o.fingerprint ?? '',
      },
      tfEnv,
    );
    record('apply-infra', apply.result, `applied=${apply.result.outputs.applied ?? 'false'}`);
    const inventory = apply.result.outputs['inventory-path'];
    if (!inventory) throw new Error('apply-infra wrote no inventory');

    const outputsPath = apply.result.outputs['outputs-path'];
    const hosts = outputsPath
      ? ((
          JSON.parse(readFileSync(outputsPath, 'utf8')) as {
            hosts?: { value: Record<string, { ip: string; role: string }> };
          }
        ).hosts?.value ?? {})
      : {};
    facts.hosts = Object.entries(hosts).map(([name, h]) => ({ name, ip: h.ip, role: h.role }));
    // As infra-apply.yml's "Write known_hosts" step, from what each host recorded when it booted.
    const knownHosts = join(runDir, 'known_hosts');
    writeFileSync(
      knownHosts,
      `${facts.hosts
        .map((h) => runningHostAt(join(LOCAL_HOSTS_DIR, h.name))?.knownHostsLine ?? '')
        .filter(Boolean)
        .join('\n')}\n`,
    );
    const privateKey = readFileSync(LOCAL_SSH_KEY, 'utf8');
    const configure = (check: boolean) => ({
      environment: ENVIRONMENT,
      playbook: PLAYBOOK,
      inventory,
      check: String(check),
      'known-hosts': knownHosts,
      'ssh-private-key': privateKey,
    });
    const check = await step('configure-hosts (check)', 'configure-hosts', configure(true));
    facts.check = recap(check.result.outputs);
    record(
      'configure-hosts (check)',
      check.result,
      `would change ${facts.check.changed}, failed=${facts.check.failed}`,
    );
    const real = await step('configure-hosts', 'configure-hosts', configure(false));
    facts.configure = recap(real.result.outputs);
    record(
      'configure-hosts',
      real.result,
      `changed=${facts.configure.changed}, failed=${facts.configure.failed}`,
    );

    const drill = await step('dr-drill', 'dr-drill', {
      environment: ENVIRONMENT,
      timeout: '30m',
      'issue-on-failure': 'false',
    });
    const d = drill.result.outputs;
    facts.drill = {
      status: d.status ?? 'fail',
      rtoSeconds: Number(d['rto-seconds'] ?? 0),
      rpoSeconds: Number(d['rpo-seconds'] ?? 0),
      rtoTarget: env.dr.rto,
      rpoTarget: env.dr.rpo,
    };
    record(
      'dr-drill',
      drill.result,
      `${facts.drill.status}, RTO ${d['rto-seconds']} s, RPO ${d['rpo-seconds']} s`,
    );
  } catch (error) {
    facts.failure = (error as Error).message;
  }

  let cleanUpError: string | undefined;
  if (keep && !interrupted) printAccess(runDir);
  else {
    try {
      await cleanUp(publicKey);
    } catch (error) {
      cleanUpError = (error as Error).message;
      facts.failure = facts.failure ?? `clean-up: ${cleanUpError}`;
    }
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  facts.durationMs = Date.now() - started;
  const text = renderReport(facts);
  writeFileSync(join(runDir, 'report.txt'), text);
  writeFileSync(
    join(runDir, 'report.json'),
    `${JSON.stringify({ passed: rehearsalPassed(facts), ...facts }, null, 2)}\n`,
  );
  say('');
  say(text);
  return rehearsalPassed(facts);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { keep: { type: 'boolean' }, down: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    say(USAGE);
    return 0;
  }
  if (values.keep && values.down) throw new Error('--keep and --down exclude each other');
  if (process.getuid?.() !== 0) {
    throw new Error(
      'rehearse must run as root: it boots hosts in namespaces, on a bridge, and runs PostgreSQL as its own user',
    );
  }
  mkdirSync(LOCAL_DIR, { recursive: true, mode: 0o755 });
  await ensureSystemTools();
  if (values.down) {
    await cleanUp(
      existsSync(`${LOCAL_SSH_KEY}.pub`) ? readFileSync(`${LOCAL_SSH_KEY}.pub`, 'utf8').trim() : undefined,
    );
    return 0;
  }
  return (await rehearse(values.keep === true)) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`rehearse: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof TypeError) process.stderr.write(`${USAGE}\n`);
    process.exitCode = 2;
  },
);
