/**
 * The etcd target of a drill: restore the newest `etcdctl snapshot save` file into a scratch data dir, start a
 * throw-away single-member etcd on loopback ports from it, and check that it serves what the snapshot holds.
 *
 * What the numbers mean (etcd 3.4–3.6, `snapshot status`): `totalKey` counts every bolt key in every bucket,
 * that is every stored revision of every key (puts and delete tombstones since the last compaction) plus etcd's
 * own buckets (meta, members, cluster, auth, lease, ...). It is not the number of keys a client sees. So the
 * drill reads the snapshot's `key` bucket itself ({@link scanSnapshot}): its entry counts and newest revision
 * must equal what `snapshot status` reports, and the keys alive at that revision are what the restored server
 * must serve. `revision` is the newest revision in the `key` bucket; the restored server's header revision must
 * not be lower.
 *
 * Corruption (measured with etcd 3.4.23): `snapshot status` only notices structural damage: both meta pages
 * bad → "Error: invalid database"; a live leaf page's element headers overwritten → a Go panic (exit 2); a
 * truncated file → SIGBUS (exit 2). Bytes overwritten in a value, in one meta page or in free pages pass it
 * (a changed value only changes its hash). `snapshot restore` checks the sha256 that `snapshot save` appends and
 * refuses any changed, truncated or hash-less file ("expected sha256 …", "snapshot missing hash"); the drill
 * never passes `--skip-hash-check`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ActionError } from '../../../lib/errors.js';
import { singleMemberArgs } from '../../../lib/etcd-member.js';
import { type ExecResult, execCommand, findExecutable, lastLines, tailOfFile } from '../../../lib/exec.js';
import { freePort } from '../../../lib/free-port.js';
import type { Check, DrillContext, EtcdTarget, TargetResult } from '../types.js';
import { DrillFailure, errorText, failedWith, pause, phaseRunner, untilAborted } from './steps.js';

/** File names that are not finished snapshots: `etcdctl snapshot save` writes `<file>.part` and renames it. */
const PARTIAL = /(\.part|\.tmp|\.partial|~)$/i;

export interface SnapshotFile {
  path: string;
  mtimeMs: number;
  size: number;
}

/** `snapshot status -w json`. */
export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

export interface EtcdDrillOptions {
  /** How long the restored etcd may take to become healthy. Default 5 min. */
  startTimeoutMs?: number;
  /** Time limit for `snapshot restore`. Default 30 min. */
  restoreTimeoutMs?: number;
  /** Status line interval while waiting. Default 30 s. */
  heartbeatMs?: number;
}

/** The newest finished snapshot in `dir` by modification time (name breaks ties), or a `backup-missing`. */
export function newestSnapshot(dir: string): SnapshotFile {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new DrillFailure(
      'backup-missing',
      `Snapshot directory ${dir} cannot be read: ${errorText(error)}.`,
    );
  }
  const files: SnapshotFile[] = [];
  for (const name of names) {
    if (name.startsWith('.') || PARTIAL.test(name)) continue;
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      if (stat.isFile() && stat.size > 0) files.push({ path, mtimeMs: stat.mtimeMs, size: stat.size });
    } catch {
      // removed while we looked
    }
  }
  files.sort((a, b) => b.mtimeMs - a.mtimeMs || basename(b.path).localeCompare(basename(a.path)));
  const newest = files[0];
  if (!newest) {
    throw new DrillFailure(
      'backup-missing',
      `No etcd snapshot in ${dir} (${names.length} entries, none a finished non-empty snapshot file).`,
    );
  }
  return newest;
}

// ---------------------------------------------------------------------------------------------------------
// Reading the snapshot's bolt file (read-only; layout of go.etcd.io/bbolt, little-endian platforms)

export interface SnapshotScan {
  /** Keys per bucket; their sum is what `snapshot status` calls totalKey. */
  buckets: Record<string, number>;
  totalKey: number;
  /** Newest main revision in the `key` bucket. */
  revision: number;
  /** Keys whose newest stored revision is not a delete tombstone: what a client sees at `revision`. */
  liveKeys: number;
}

const BOLT_MAGIC = 0xed0cdaed;
const PAGE_HEADER = 16;
const BRANCH_PAGE = 0x01;
const LEAF_PAGE = 0x02;
const BUCKET_LEAF = 0x01;
const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = (1n << 64n) - 1n;

function fnv1a64(bytes: Buffer): bigint {
  let hash = FNV_OFFSET;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & U64;
  return hash;
}

interface Meta {
  pageSize: number;
  root: bigint;
  txid: bigint;
}

function parseMeta(page: Buffer): Meta | undefined {
  if (page.length < PAGE_HEADER + 64) return undefined;
  const meta = page.subarray(PAGE_HEADER, PAGE_HEADER + 64);
  if (meta.readUInt32LE(0) !== BOLT_MAGIC || meta.readUInt32LE(4) !== 2) return undefined;
  if (fnv1a64(meta.subarray(0, 56)) !== meta.readBigUInt64LE(56)) return undefined;
  return { pageSize: meta.readUInt32LE(8), root: meta.readBigUInt64LE(16), txid: meta.readBigUInt64LE(48) };
}

class BoltReader {
  private readonly meta: Meta;

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {
    const candidates: Meta[] = [];
    const first = parseMeta(this.read(0, 4096));
    if (first) candidates.push(first);
    for (const pageSize of new Set([first?.pageSize ?? 4096, 4096, 8192, 16384, 65536])) {
      const second = parseMeta(this.read(pageSize, 4096));
      if (second && second.pageSize === pageSize) candidates.push(second);
    }
    candidates.sort((a, b) => (b.txid > a.txid ? 1 : b.txid < a.txid ? -1 : 0));
    const meta = candidates[0];
    if (!meta) throw new Error('no valid bolt meta page');
    this.meta = meta;
  }

  private read(position: number, length: number): Buffer {
    const buffer = Buffer.alloc(Math.max(0, Math.min(length, this.size - position)));
    let done = 0;
    while (done < buffer.length) {
      const got = readSync(this.fd, buffer, done, buffer.length - done, position + done);
      if (got === 0) break;
      done += got;
    }
    return buffer.subarray(0, done);
  }

  private page(id: bigint): Buffer {
    const position = Number(id) * this.meta.pageSize;
    const header = this.read(position, PAGE_HEADER);
    if (header.length < PAGE_HEADER) throw new Error(`page ${id} lies beyond the end of the file`);
    const overflow = header.readUInt32LE(12);
    return this.read(position, (overflow + 1) * this.meta.pageSize);
  }

  /** Calls `visit` for every leaf element of the tree at `root` (a page id, or an inline bucket's page). */
  private walk(root: bigint | Buffer, visit: (flags: number, key: Buffer, value: Buffer) => void): void {
    const page = typeof root === 'bigint' ? this.page(root) : root;
    const flags = page.readUInt16LE(8);
    const count = page.readUInt16LE(10);
    for (let index = 0; index < count; index++) {
      const element = PAGE_HEADER + index * 16;
      if (flags & BRANCH_PAGE) {
        this.walk(page.readBigUInt64LE(element + 8), visit);
      } else if (flags & LEAF_PAGE) {
        const pos = element + page.readUInt32LE(element + 4);
        const keyEnd = pos + page.readUInt32LE(element + 8);
        const valueEnd = keyEnd + page.readUInt32LE(element + 12);
        if (valueEnd > page.length) throw new Error('leaf element runs past its page');
        visit(page.readUInt32LE(element), page.subarray(pos, keyEnd), page.subarray(keyEnd, valueEnd));
      } else {
        throw new Error(`unexpected page type 0x${flags.toString(16)} in a bucket tree`);
      }
    }
  }

  /** Top-level buckets in key order, each with every key/value of its tree. */
  forEachBucket(visit: (name: string, forEach: (fn: (key: Buffer, value: Buffer) => void) => void) => void) {
    this.walk(this.meta.root, (flags, name, value) => {
      if (!(flags & BUCKET_LEAF)) return;
      const root = value.readBigUInt64LE(0);
      const tree = root === 0n ? Buffer.from(value.subarray(16)) : root;
      visit(name.toString('latin1'), (fn) => this.walk(tree, (_flags, key, v) => fn(key, v)));
    });
  }
}

/** Field 1 (`key`) of an mvccpb.KeyValue. */
function protoKey(message: Buffer): Buffer {
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = message[at++];
      if (byte === undefined || shift > 63) throw new Error('truncated KeyValue');
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < message.length) {
    const tag = varint();
    const wire = tag % 8;
    if (wire === 0) varint();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const length = varint();
      if (tag >>> 3 === 1) return message.subarray(at, at + length);
      at += length;
    } else throw new Error(`unexpected wire type ${wire} in KeyValue`);
  }
  throw new Error('KeyValue without a key');
}

/** Reads a snapshot file's buckets, its newest revision and the keys alive at that revision. */
export function scanSnapshot(path: string): SnapshotScan {
  const fd = openSync(path, 'r');
  try {
    const reader = new BoltReader(fd, fstatSync(fd).size);
    const buckets: Record<string, number> = {};
    let revision = 0;
    const live = new Set<string>();
    reader.forEachBucket((name, forEach) => {
      let count = 0;
      forEach((key, value) => {
        count++;
        if (name !== 'key') return;
        // Revision key: 8 bytes main, '_', 8 bytes sub, and a trailing 't' on a delete tombstone.
        if (key.length < 17) throw new Error('short revision key in the key bucket');
        revision = Number(key.readBigUInt64BE(0));
        const userKey = protoKey(value).toString('latin1');
        if (key.length === 18 && key[17] === 0x74) live.delete(userKey);
        else live.add(userKey);
      });
      buckets[name] = count;
    });
    const totalKey = Object.values(buckets).reduce((sum, count) => sum + count, 0);
    return { buckets, totalKey, revision, liveKeys: live.size };
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The drill

/** How a tool failed: its exit, and its `Error:`/panic line (a Go crash prints pages of goroutines after it). */
function toolError(out: ExecResult): string {
  const how = out.exitCode === null ? `was stopped by ${out.signal}` : `exited with ${out.exitCode}`;
  let text = '';
  try {
    text = readFileSync(out.stderrPath, 'utf8');
  } catch {
    // no output
  }
  const lines = text.split('\n').map((line) => line.trim());
  const headline = lines.find((line) => /^(Error:|panic:|fatal error:|unexpected fault)/.test(line));
  const detail = headline ?? lastLines(text, 3).join(' | ');
  return `${how}: ${(detail || '(no output)').slice(0, 400)}`;
}

/** The environment for etcd's tools: nothing from ETCD_* / ETCDCTL_* / ETCDUTL_* that could point elsewhere. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(process.env)) if (/^ETCD(CTL|UTL)?_/.test(key)) env[key] = undefined;
  return { ...env, ...extra };
}

interface Tools {
  etcd: string;
  etcdctl: string;
  /** etcdutl (3.5+) for snapshot status/restore when present, else etcdctl with API v3. */
  snapshotTool: string;
}

function findTools(): Tools {
  const need = (name: string) => {
    const path = findExecutable(name) ?? findExecutable(`/usr/bin/${name}`);
    if (!path) {
      throw new ActionError(
        'missing-tool',
        `'${name}' was not found on PATH; the etcd drill needs etcd and etcdctl (Debian: etcd-server, etcd-client).`,
      );
    }
    return path;
  };
  const etcdctl = need('etcdctl');
  return { etcd: need('etcd'), etcdctl, snapshotTool: findExecutable('etcdutl') ?? etcdctl };
}

/** Restores the newest snapshot of `target` into a scratch etcd and verifies it. Drill failures are results. */
export async function drillEtcd(
  target: EtcdTarget,
  ctx: DrillContext,
  options: EtcdDrillOptions = {},
): Promise<TargetResult> {
  const tools = findTools();
  const result: TargetResult = { name: target.name, kind: 'etcd', ok: false, phases: [], checks: [] };
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const logDir = ctx.scratch.dir(`etcd-${target.name}-logs`);

  const run = (argv: string[], label: string, timeoutMs: number): Promise<ExecResult> =>
    execCommand(argv, {
      env: cleanEnv({ ETCDCTL_API: '3' }),
      logDir,
      label,
      masker: ctx.masker,
      timeoutMs,
      signal: ctx.signal,
      echo: false,
    });

  const phase = phaseRunner({ name: target.name, ctx, result, heartbeatMs });

  try {
    const snapshot = await phase(
      'find-backup',
      'backup-missing',
      async () => newestSnapshot(target.snapshots),
      (file) => `${file.path} (${file.size} bytes, ${new Date(file.mtimeMs).toISOString()})`,
    );
    result.backup = snapshot.path;
    result.recoveryPoint = snapshot.mtimeMs;

    const { status, scan } = await phase(
      'status',
      'restore-failed',
      async () => {
        const out = await untilAborted(
          run(
            [tools.snapshotTool, 'snapshot', 'status', snapshot.path, '-w', 'json'],
            'snapshot-status',
            300_000,
          ),
          ctx.signal,
          'reading the snapshot status',
        );
        if (out.exitCode !== 0) {
          throw new DrillFailure('restore-failed', `snapshot status of ${snapshot.path} ${toolError(out)}`);
        }
        const status = parseStatus(out.stdout());
        let scan: SnapshotScan | Error;
        try {
          scan = scanSnapshot(snapshot.path);
        } catch (error) {
          scan = new Error(`cannot read ${snapshot.path} as a bolt database: ${errorText(error)}`);
        }
        return { status, scan };
      },
      ({ status, scan }) =>
        `revision ${status.revision}, totalKey ${status.totalKey}, hash ${status.hash}` +
        (scan instanceof Error
          ? ''
          : `; ${scan.liveKeys} live keys, buckets ${JSON.stringify(scan.buckets)}`),
    );

    const base = ctx.scratch.dir(`etcd-${target.name}`);
    const dataDir = join(base, 'data');
    const ports = { client: await freePort(), peer: await freePort() };
    result.restoreStartedAt = ctx.now();
    await phase('restore', 'restore-failed', async () => {
      const peerUrl = `http://127.0.0.1:${ports.peer}`;
      const out = await untilAborted(
        run(
          [
            tools.snapshotTool,
            'snapshot',
            'restore',
            snapshot.path,
            '--data-dir',
            dataDir,
            '--name',
            'drill',
            '--initial-cluster',
            `drill=${peerUrl}`,
            '--initial-advertise-peer-urls',
            peerUrl,
            '--initial-cluster-token',
            `spark-drill-${process.pid}-${ctx.drillStart}`,
          ],
          'snapshot-restore',
          options.restoreTimeoutMs ?? 30 * 60_000,
        ),
        ctx.signal,
        'restoring the snapshot',
      );
      if (out.timedOut)
        throw new DrillFailure('timeout', `snapshot restore of ${snapshot.path} did not finish.`);
      if (out.exitCode !== 0) {
        throw new DrillFailure('restore-failed', `snapshot restore of ${snapshot.path} ${toolError(out)}`);
      }
    });

    const clientUrl = await phase(
      'start',
      'restore-failed',
      () =>
        startRestored({
          tools,
          dataDir,
          base,
          ports,
          ctx,
          timeoutMs: options.startTimeoutMs ?? 300_000,
          run,
        }),
      (url) => `healthy at ${url}`,
    );

    await phase('verify', 'verification-failed', async () => {
      const out = await untilAborted(
        run(
          [
            tools.etcdctl,
            '--endpoints',
            clientUrl,
            'get',
            '',
            '--prefix',
            '--keys-only',
            '--limit',
            '1',
            '-w',
            'json',
          ],
          'etcdctl-get',
          60_000,
        ),
        ctx.signal,
        'counting the restored keys',
      );
      if (out.exitCode !== 0) {
        throw new DrillFailure('verification-failed', `Counting the restored keys ${toolError(out)}`);
      }
      const served = parseRange(out.stdout());
      const checks: Check[] = [];
      if (scan instanceof Error) {
        checks.push({
          name: 'snapshot-scan',
          ok: false,
          expected: 'a readable bolt database',
          actual: scan.message,
        });
      } else {
        checks.push({
          name: 'snapshot-scan',
          ok: scan.totalKey === status.totalKey && scan.revision === status.revision,
          expected: `totalKey ${status.totalKey}, revision ${status.revision} (snapshot status)`,
          actual: `totalKey ${scan.totalKey}, revision ${scan.revision}`,
        });
        checks.push({
          name: 'key-count',
          ok: served.count === scan.liveKeys,
          // Not totalKey: that counts every stored revision and etcd's own buckets (see the file comment).
          expected: String(scan.liveKeys),
          actual: String(served.count),
        });
      }
      checks.push({
        name: 'revision',
        ok: served.revision >= status.revision,
        expected: `>= ${status.revision}`,
        actual: String(served.revision),
      });
      result.checks.push(...checks);
      const failed = checks.filter((check) => !check.ok);
      if (failed.length > 0) {
        throw new DrillFailure(
          'verification-failed',
          `The restored etcd does not match the snapshot: ${failed
            .map((check) => `${check.name} expected ${check.expected}, got ${check.actual}`)
            .join('; ')}.`,
        );
      }
      return served;
    });
    result.verifiedAt = ctx.now();
    result.ok = true;
    return result;
  } catch (error) {
    return failedWith(result, error, ctx.masker);
  }
}

function parseStatus(text: string): SnapshotStatus {
  let json: Partial<SnapshotStatus>;
  try {
    json = JSON.parse(text) as Partial<SnapshotStatus>;
  } catch {
    throw new DrillFailure('restore-failed', `snapshot status printed no JSON: ${text.slice(0, 200)}`);
  }
  const { hash, revision, totalKey, totalSize } = json;
  if (typeof revision !== 'number' || typeof totalKey !== 'number') {
    throw new DrillFailure(
      'restore-failed',
      `snapshot status lacks revision/totalKey: ${text.slice(0, 200)}`,
    );
  }
  return { hash: hash ?? 0, revision, totalKey, totalSize: totalSize ?? 0 };
}

/** `etcdctl get -w json`: the header revision and `count` (all keys in the range; omitted when 0). */
function parseRange(text: string): { revision: number; count: number } {
  try {
    const json = JSON.parse(text) as { header?: { revision?: number }; count?: number };
    return { revision: json.header?.revision ?? 0, count: json.count ?? 0 };
  } catch {
    throw new DrillFailure('verification-failed', `etcdctl get printed no JSON: ${text.slice(0, 200)}`);
  }
}

interface StartArgs {
  tools: Tools;
  dataDir: string;
  base: string;
  ports: { client: number; peer: number };
  ctx: DrillContext;
  timeoutMs: number;
  run: (argv: string[], label: string, timeoutMs: number) => Promise<ExecResult>;
}

/** Starts etcd on the restored data dir and waits until `endpoint health` passes; returns the client URL. */
async function startRestored(args: StartArgs): Promise<string> {
  const { tools, dataDir, base, ctx } = args;
  const ports = { ...args.ports };
  for (let attempt = 1; ; attempt++) {
    const clientUrl = `http://127.0.0.1:${ports.client}`;
    const peerUrl = `http://127.0.0.1:${ports.peer}`;
    const logFile = join(base, `etcd-${attempt}.log`);
    const child = spawnEtcd(tools.etcd, dataDir, clientUrl, peerUrl, logFile);
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    if (child.pid !== undefined) ctx.scratch.track(child, `restored etcd (pid ${child.pid}) on ${clientUrl}`);
    const deadline = Date.now() + args.timeoutMs;
    while (true) {
      if (ctx.signal.aborted)
        throw new DrillFailure('timeout', 'The drill timed out while etcd was starting.');
      if (spawnError)
        throw new DrillFailure('restore-failed', `etcd could not be started: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) break;
      const health = await untilAborted(
        args.run(
          [
            tools.etcdctl,
            '--endpoints',
            clientUrl,
            '--dial-timeout',
            '2s',
            '--command-timeout',
            '3s',
            'endpoint',
            'health',
          ],
          'etcdctl-health',
          15_000,
        ),
        ctx.signal,
        'waiting for the restored etcd',
      );
      if (health.exitCode === 0) return clientUrl;
      if (Date.now() > deadline) {
        throw new DrillFailure(
          'restore-failed',
          `The restored etcd did not become healthy within ${Math.round(args.timeoutMs / 1000)} s:\n${tailOfFile(logFile, 15)}`,
        );
      }
      await pause(250, ctx.signal);
    }
    const log = tailOfFile(logFile, 15);
    if (attempt < 3 && /address already in use/i.test(log)) {
      ports.client = await freePort();
      ports.peer = await freePort();
      continue;
    }
    throw new DrillFailure(
      'restore-failed',
      `etcd exited (${child.exitCode ?? child.signalCode}) on the restored data:\n${log}`,
    );
  }
}

function spawnEtcd(
  etcd: string,
  dataDir: string,
  clientUrl: string,
  peerUrl: string,
  logFile: string,
): ChildProcess {
  const log = openSync(logFile, 'a', 0o600);
  try {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env))
      if (!/^ETCD(CTL|UTL)?_/.test(key)) env[key] = value;
    const child = spawn(etcd, singleMemberArgs({ name: 'drill', dataDir, clientUrl, peerUrl }), {
      env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.on('error', () => {}); // reported by the caller's own listener
    return child;
  } finally {
    closeSync(log);
  }
}
