/** Picks the restore for each kind of target. */
import type { DrillContext, DrillTarget, TargetResult } from '../types.js';
import { drillEtcd } from './etcd.js';
import { drillPostgres } from './postgres.js';
import { drillVelero, loadKubeConfig } from './velero.js';

export function drillTarget(options: { kubeconfig?: string }) {
  return (target: DrillTarget, context: DrillContext): Promise<TargetResult> => {
    switch (target.kind) {
      case 'postgres':
        return drillPostgres(target, context);
      case 'etcd':
        return drillEtcd(target, context);
      case 'velero':
        // The Kubernetes client is only set up for a drill that has a velero target.
        return drillVelero(target, {
          ...context,
          kube: loadKubeConfig(options.kubeconfig ? { path: options.kubeconfig } : {}),
          // A re-run attempt must not meet the namespaces of the one before, which may still be terminating.
          ...(process.env.GITHUB_RUN_ID
            ? { runId: `${process.env.GITHUB_RUN_ID}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}` }
            : {}),
        });
    }
  };
}
