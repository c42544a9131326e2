/**
 * A kubeconfig that cannot be used. The message names the file (or the
 * context, cluster or user) and the field, in one line: the tap prints it
 * and exits 2 before it listens.
 */
export class KubeconfigError extends Error {
  constructor(
    /** The file, or `context "x"` / `user "y"`, that the problem is in. */
    readonly where: string,
    detail: string,
  ) {
    super(`${where}: ${detail}`);
    this.name = 'KubeconfigError';
  }
}

/** An exec credential plugin that failed, timed out or printed something unusable. */
export class ExecCredentialError extends Error {
  constructor(
    readonly user: string,
    detail: string,
  ) {
    super(`user "${user}": exec credential plugin ${detail}`);
    this.name = 'ExecCredentialError';
  }
}
