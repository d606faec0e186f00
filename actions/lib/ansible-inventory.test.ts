import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ansibleGroupName, inventoryYaml, parseHostsOutput } from './ansible-inventory.js';

describe('inventoryYaml', () => {
  const hosts = parseHostsOutput({
    'spark-conductor': { ip: '192.168.1.101', role: 'control-plane', groups: ['control-plane'] },
    'spark-executor-01': { ip: '192.168.1.102', role: 'worker', groups: ['worker', 'k8s'] },
  });

  it('lists every host with its address and groups them by role and group', () => {
    const inventory = parse(inventoryYaml(hosts, 'production'));
    expect(inventory.all.vars).toEqual({ spark_environment: 'production' });
    expect(inventory.all.hosts['spark-conductor']).toEqual({ ansible_host: '192.168.1.101' });
    expect(Object.keys(inventory.all.children)).toEqual(['control_plane', 'k8s', 'worker']);
    expect(Object.keys(inventory.all.children.worker.hosts)).toEqual(['spark-executor-01']);
  });

  it('makes group names valid for Ansible', () => {
    expect(ansibleGroupName('ci-runner')).toBe('ci_runner');
    expect(ansibleGroupName('1st')).toBe('_1st');
  });

  it('refuses an output of another shape', () => {
    expect(() => parseHostsOutput(['a'])).toThrow(/not a map/);
    expect(() => parseHostsOutput({ a: { ip: 1 } })).toThrow(/'a' has no string ip/);
  });
});
