/**
 * A tiny benchmark runner: each case runs a subject and a reference in alternation in the same process, and
 * reports the ratio of their medians, so the number means something on any machine.
 */
export interface BenchCase {
  name: string;
  /** What the reference stands for, in a few words. */
  reference: string;
  subject: () => Promise<unknown> | unknown;
  baseline: () => Promise<unknown> | unknown;
  rounds?: number;
}

export interface BenchResult {
  name: string;
  reference: string;
  subjectMs: number;
  referenceMs: number;
  ratio: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function measure(c: BenchCase): Promise<BenchResult> {
  const rounds = c.rounds ?? 7;
  await c.subject(); // warm-up
  await c.baseline();
  const subject: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < rounds; i++) {
    subject.push(await time(c.subject));
    baseline.push(await time(c.baseline));
  }
  const subjectMs = median(subject);
  const referenceMs = median(baseline);
  return { name: c.name, reference: c.reference, subjectMs, referenceMs, ratio: subjectMs / referenceMs };
}
