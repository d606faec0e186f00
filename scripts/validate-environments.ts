/**
 * `npm run validate [-- FILE...]`: checks environment files against environments/schema.json and the
 * platform rules (addresses, pools and their ingress, capacity, references, durations).
 *
 * Prints one line per problem, `FILE: PATH: message` (FILE relative to the current directory; warnings say
 * `warning:`), then a tally on stderr. Exit status: 0 without errors (warnings allowed), 1 with errors,
 * 2 on a usage error such as a missing file.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  ENVIRONMENTS_DIR,
  type Problem,
  validateEnvironmentFile,
} from '../actions/lib/environments/index.js';

const USAGE = `usage: npm run validate [-- FILE...]
Checks environment files against ${ENVIRONMENTS_DIR}/schema.json and the platform rules.
Without FILE, checks every ${ENVIRONMENTS_DIR}/*.yaml under the current directory.`;

class UsageError extends Error {}

interface Target {
  file: string;
  /** A problem known without reading the file (a misnamed file in environments/). */
  problem?: Problem;
}

/** The files named on the command line, or every environment file of `<cwd>/environments`. */
function targets(args: string[], cwd: string, note: (line: string) => void): Target[] {
  const options = args.filter((a) => a.startsWith('-'));
  if (options.length > 0) throw new UsageError(`unknown option ${options.join(', ')}`);
  if (args.length > 0) {
    const missing = args.filter((a) => !existsSync(resolve(cwd, a)));
    if (missing.length > 0) throw new UsageError(`no such file: ${missing.join(', ')}`);
    const dirs = args.filter((a) => statSync(resolve(cwd, a)).isDirectory());
    if (dirs.length > 0) throw new UsageError(`not a file but a directory: ${dirs.join(', ')}`);
    return args.map((file) => ({ file: resolve(cwd, file) }));
  }

  const dir = join(cwd, ENVIRONMENTS_DIR);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(
      `there is no ${ENVIRONMENTS_DIR}/ directory in ${cwd}; run from the repository root or name the files`,
    );
  }
  const found: Target[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const file = join(dir, entry.name);
    if (entry.isFile() && entry.name.endsWith('.yaml')) found.push({ file });
    else if (entry.isFile() && entry.name.endsWith('.yml')) {
      const name = entry.name.slice(0, -'.yml'.length);
      found.push({
        file,
        problem: {
          path: '(file)',
          severity: 'error',
          message: `environment files are named <name>.yaml, so this one is never loaded; rename it to ${name}.yaml`,
        },
      });
    } else if (entry.name !== 'schema.json') {
      note(`not checked: ${relative(cwd, file)} (environment files are ${ENVIRONMENTS_DIR}/<name>.yaml)`);
    }
  }
  if (found.length === 0)
    throw new UsageError(`no environment files (*.yaml) in ${relative(cwd, dir) || dir}`);
  return found;
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

async function main(args: string[], cwd: string): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const notes: string[] = [];
  let list: Target[];
  try {
    list = targets(args, cwd, (line) => notes.push(line));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`validate: ${error.message}\n${USAGE}\n`);
    return 2;
  }

  const lines: string[] = [];
  let errors = 0;
  let warnings = 0;
  for (const target of list) {
    const problems = target.problem
      ? [target.problem]
      : (await validateEnvironmentFile(target.file)).problems;
    const shown = relative(cwd, target.file);
    for (const p of problems) {
      if (p.severity === 'error') errors++;
      else warnings++;
      lines.push(`${shown}: ${p.path}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`);
    }
  }
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
  const tally =
    errors + warnings === 0 ? 'no problems' : `${count(errors, 'error')}, ${count(warnings, 'warning')}`;
  process.stderr.write(
    [...notes, `validate: ${count(list.length, 'file')} checked, ${tally}`].map((l) => `${l}\n`).join(''),
  );
  return errors > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2), process.cwd());
