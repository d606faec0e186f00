/** Reading `ansible-inventory --graph`, which names hosts and groups without printing any variable. */

/** Host names in `ansible-inventory --graph` output (`  |--name` lines; groups start with @). */
export function graphHosts(graph: string): string[] {
  const names = graph
    .split('\n')
    .map((line) => /\|--([^@\s][^\s]*)\s*$/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  return [...new Set(names)];
}
