/** Polls a condition until it holds, or fails the test after `ms`: for states reached through sockets and timers. */
export async function until(pred: () => boolean | Promise<boolean>, ms = 10000, everyMs = 10): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
