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
