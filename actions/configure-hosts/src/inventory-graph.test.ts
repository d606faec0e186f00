import { describe, expect, it } from 'vitest';
import { graphHosts } from './inventory-graph.js';

describe('graphHosts', () => {
  it('lists each host once, not the groups', () => {
    const graph = [
      '@all:',
      '  |--@ungrouped:',
      '  |--@monitoring:',
      '  |  |--spark-observer',
      '  |--@worker:',
      '  |  |--spark-executor-01',
      '  |--@registry:',
      '  |  |--spark-executor-01',
    ].join('\n');
    expect(graphHosts(graph)).toEqual(['spark-observer', 'spark-executor-01']);
    expect(graphHosts('@all:\n  |--@ungrouped:')).toEqual([]);
  });
});
