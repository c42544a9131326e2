/**
 * The user's identity at the tap's two edges: who the tap signs in as
 * upstream (a kubeconfig user: certificates, tokens, exec plugins,
 * impersonation) and who may use the tap locally (a one-time token).
 * Loaded only by `tap`: `decode` never pays for it.
 */
export { KubeconfigError, ExecCredentialError } from './errors.js';
export { kubeconfigFiles, loadKubeconfig, type MergedKubeconfig, type LoadOptions } from './kubeconfig-load.js';
export { resolveUpstream, selectTarget, type SelectOptions, type UpstreamTarget, type UpstreamCluster, type UpstreamUser } from './kubeconfig-resolve.js';
export { ExecCredentialSource, parseExecCredential, type ExecCredential } from './exec-credential.js';
export { UpstreamCredentials, type RequestCredentials, type ClientCertificate } from './upstream-credentials.js';
export { newLocalToken, checkLocalToken, localKubeconfigYaml, writeLocalKubeconfig, type LocalKubeconfigFile, type LocalTokenCheck } from './local-access.js';
