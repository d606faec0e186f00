// How the drill, the tests and the local environment start and reach a one-member etcd.

/** The flags that start a one-member etcd on the given loopback URLs; used by the drill and by the tests. */
export function singleMemberArgs(options: {
  name: string;
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
}): string[] {
  const { name, dataDir, clientUrl, peerUrl } = options;
  return [
    '--name',
    name,
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    clientUrl,
    '--advertise-client-urls',
    clientUrl,
    '--listen-peer-urls',
    peerUrl,
    '--initial-advertise-peer-urls',
    peerUrl,
    '--initial-cluster',
    `${name}=${peerUrl}`,
  ];
}

/** etcdctl's environment: API v3, and no ETCDCTL_* from the caller pointing it elsewhere. */
export function etcdctlEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('ETCDCTL_')) delete env[key];
  env.ETCDCTL_API = '3';
  return env;
}

/** Whether the etcd at `clientUrl` answers its /health endpoint with health "true" within a second. */
export async function isEtcdHealthy(clientUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1_000) });
    const body = (await response.json()) as { health?: unknown };
    return response.ok && body.health === 'true';
  } catch {
    return false;
  }
}
