/**
 * The order hosts are kept and reported in, which is also the tie-break
 * between hosts that score the same: by name, then by id.
 */
export function compareHosts(a: { name: string; id: string }, b: { name: string; id: string }): number {
  if (a.name < b.name) return -1;
  if (a.name > b.name) return 1;
  if (a.id < b.id) return -1;
  return a.id > b.id ? 1 : 0;
}
