import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../secrets.js';
import { describeLockHolder, describePgHolder, lockDiagnostic, parseLockInfo } from './state-lock.js';

const detail = `Error message: ConditionalCheckFailedException: The conditional request failed
Lock Info:
  ID:        8d3c1b6e-5d2a-4a3e-9a0b-1f2e3d4c5b6a
  Path:      spark/production.tfstate
  Operation: OperationTypeApply
  Who:       runner@spark-builder
  Version:   1.11.4
  Created:   2026-11-22 06:00:00.000000 +0000 UTC
  Info:

Terraform acquires a state lock to protect the state from being written
by multiple users at the same time.`;

describe('lockDiagnostic', () => {
  it('finds the lock error among the diagnostics', () => {
    const diagnostics = [
      { severity: 'warning' as const, summary: 'Deprecated', detail: '' },
      { severity: 'error' as const, summary: 'Error acquiring the state lock', detail },
    ];
    expect(lockDiagnostic(diagnostics)?.summary).toBe('Error acquiring the state lock');
    expect(lockDiagnostic(diagnostics.slice(0, 1))).toBeUndefined();
  });
});

describe('parseLockInfo', () => {
  it('reads the fields of the Lock Info block', () => {
    expect(parseLockInfo(detail)).toEqual({
      ID: '8d3c1b6e-5d2a-4a3e-9a0b-1f2e3d4c5b6a',
      Path: 'spark/production.tfstate',
      Operation: 'OperationTypeApply',
      Who: 'runner@spark-builder',
      Version: '1.11.4',
      Created: '2026-11-22 06:00:00.000000 +0000 UTC',
    });
    expect(parseLockInfo('no block')).toEqual({});
  });
});

describe('describeLockHolder', () => {
  it('names the holder and how to release the lock for backends that store lock info', async () => {
    const lines = await describeLockHolder({
      backendType: 's3',
      diagnostic: { severity: 'error', summary: 'Error acquiring the state lock', detail },
      pgConnection: undefined,
      masker: new SecretMasker(),
    });
    expect(lines[0]).toContain('Who: runner@spark-builder');
    expect(lines[1]).toBe(
      'If that run is dead, release it with: terraform force-unlock 8d3c1b6e-5d2a-4a3e-9a0b-1f2e3d4c5b6a',
    );
  });

  it('describes a PostgreSQL session', () => {
    expect(
      describePgHolder({
        pid: 42,
        user: 'terraform',
        client: '10.0.0.5',
        application: '',
        connectedAt: '2026-11-22T06:00:00Z',
        state: 'idle',
      }),
    ).toBe(
      "PostgreSQL session 42 of user 'terraform' from 10.0.0.5, connected since 2026-11-22T06:00:00Z (idle)",
    );
  });
});
