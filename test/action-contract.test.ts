import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionNames, actionYmlProblems, requiredInputs } from './support/action-contract.js';
import { repoRoot, runActionBundle } from './support/action-runner.js';
import { tempDir } from './support/temp-dir.js';

describe('the action.yml contract check', () => {
  it('accepts a well-formed action and names each defect of a bad one', () => {
    expect(actionYmlProblems(join(repoRoot, 'test/fixtures/runtime-probe/action.yml'))).toEqual([]);
    const bad = join(tempDir('contract-'), 'action.yml');
    writeFileSync(
      bad,
      'name: x\ndescription: y\ninputs:\n  a:\n    required: false\n  b:\n    description: b\n    required: true\n    default: z\noutputs:\n  o: {}\nruns:\n  using: node20\n  main: index.js\n',
    );
    expect(actionYmlProblems(bad)).toEqual([
      'inputs.a: no description',
      'inputs.a: optional input without a default',
      'inputs.b: required input with a default',
      'outputs.o: no description',
      'outputs.failure-reason: missing',
      "runs.using: 'node20', expected node24",
      "runs.main: 'index.js', expected dist/index.js",
    ]);
  });
});

// Every action that exists keeps the anatomy and fails fast, naming the input, when a required one is missing.
describe.each(actionNames(repoRoot))('action %s', (name) => {
  const yml = join(repoRoot, 'actions', name, 'action.yml');

  it('declares its inputs and outputs fully', () => {
    expect(actionYmlProblems(yml)).toEqual([]);
  });

  it.each(requiredInputs(yml))('fails fast without its required input %s', async (input) => {
    const result = await runActionBundle(name, { inputs: { [input]: '' } });
    expect(result.exitCode).toBe(1);
    expect(result.outputs['failure-reason']).toBe('bad-input');
    expect(result.annotations.map((a) => a.message).join('\n')).toContain(`Input '${input}' is required`);
  });
});
