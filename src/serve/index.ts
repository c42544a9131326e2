/** `kubewire serve` as a library: start a local fake Kubernetes exec/attach/port-forward endpoint in-process. */
export { startServe, parseListen, type ServeOptions, type ServeHandle, type ServeTokenUser } from './server.js';
export { parseTokenFile, loadClientCa, type TokenFile, type TokenRecord, type Identity } from './identity/index.js';
export { kubeconfigYaml, type KubeconfigOptions } from './kubeconfig.js';
export { statusJson, statusPayload, type ExecOutcome } from './status.js';
export { isLoopback } from './auth.js';
export { bearerMatches } from './identity/index.js';
export { apiResponse, handleApiRequest, type FakeApiOptions } from './fake-api.js';
export type { ExecBehaviour, ExecRequest } from './exec.js';
export * from './hops/index.js';
