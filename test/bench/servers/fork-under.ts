import { fork, type ChildProcess, type StdioOptions } from 'node:child_process';

/**
 * fork() of a module with node's own flags, or under a wrapper (`valgrind` and its options, bench:instructions):
 * fork() runs execPath with execArgv before the module, so the wrapper takes node's place and runs node itself.
 * The IPC channel is passed down to node through the wrapper.
 */
export function forkUnder(module: string, args: readonly string[], nodeArgs: readonly string[], wrap: readonly string[], stdio: StdioOptions): ChildProcess {
  const [wrapper, ...wrapArgs] = wrap;
  return fork(module, [...args], {
    ...(wrapper ? { execPath: wrapper, execArgv: [...wrapArgs, process.execPath, ...nodeArgs] } : { execArgv: [...nodeArgs] }),
    stdio,
  });
}
