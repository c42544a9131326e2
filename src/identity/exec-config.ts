/**
 * The `exec` stanza of a kubeconfig user, checked as client-go checks it
 * (`client.authentication.k8s.io/v1` and `v1beta1`).
 */
import { KubeconfigError } from './errors.js';
import type { RawExecConfig } from './kubeconfig-types.js';

export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;
export type ExecApiVersion = (typeof EXEC_API_VERSIONS)[number];
export type InteractiveMode = 'Never' | 'IfAvailable' | 'Always';

export interface ExecConfig {
  apiVersion: ExecApiVersion;
  command: string;
  args: string[];
  env: Array<[name: string, value: string]>;
  interactiveMode: InteractiveMode;
  provideClusterInfo: boolean;
  installHint?: string;
}

export function checkExecConfig(raw: RawExecConfig, where: string): ExecConfig {
  const at = `${where}: exec`;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new KubeconfigError(at, 'must be a mapping');
  const apiVersion = raw.apiVersion;
  if (!EXEC_API_VERSIONS.includes(apiVersion as ExecApiVersion)) {
    throw new KubeconfigError(at, `apiVersion ${JSON.stringify(apiVersion)} is not supported (use ${EXEC_API_VERSIONS.join(' or ')})`);
  }
  if (typeof raw.command !== 'string' || !raw.command) throw new KubeconfigError(at, 'has no command');
  const args = raw.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new KubeconfigError(at, 'args must be a list of strings');
  const env: Array<[string, string]> = [];
  for (const [i, e] of ((raw.env ?? []) as unknown[]).entries()) {
    const entry = e as { name?: unknown; value?: unknown };
    if (!entry || typeof entry.name !== 'string' || typeof entry.value !== 'string') {
      throw new KubeconfigError(at, `env[${i}] needs a string name and value`);
    }
    env.push([entry.name, entry.value]);
  }
  let interactiveMode: InteractiveMode;
  if (raw.interactiveMode === undefined || raw.interactiveMode === null || raw.interactiveMode === '') {
    // v1 made the field mandatory; v1beta1 defaulted it.
    if (apiVersion === 'client.authentication.k8s.io/v1') throw new KubeconfigError(at, 'interactiveMode must be set for client.authentication.k8s.io/v1');
    interactiveMode = 'IfAvailable';
  } else if (raw.interactiveMode === 'Never' || raw.interactiveMode === 'IfAvailable' || raw.interactiveMode === 'Always') {
    interactiveMode = raw.interactiveMode;
  } else {
    throw new KubeconfigError(at, `interactiveMode ${JSON.stringify(raw.interactiveMode)} is not Never, IfAvailable or Always`);
  }
  return {
    apiVersion: apiVersion as ExecApiVersion,
    command: raw.command,
    args: args as string[],
    env,
    interactiveMode,
    provideClusterInfo: raw.provideClusterInfo === true,
    installHint: typeof raw.installHint === 'string' ? raw.installHint : undefined,
  };
}
