/**
 * An async pool: `count` calls of `task(i)`, at most `width` in flight, in index order.
 */
export async function runPool(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane));
}
