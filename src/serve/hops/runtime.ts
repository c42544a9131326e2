/**
 * `serve --as runtime`: today's serve (the API URL forms, commands run on
 * this machine) that also answers a container runtime's streaming URLs:
 * `/exec/{token}`, `/attach/{token}` and `/portforward/{token}` for tokens it
 * handed out (runtime-tokens.ts). Streaming servers speak the kubelet's
 * protocols: SPDY v4…v1 and `portforward.k8s.io`, WebSocket as the kubelet
 * lets through.
 */
import { startServe, type ServeHandle, type ServeOptions } from '../server.js';
import { runtimeRoutes } from './runtime-tokens.js';

export async function startRuntimeHop(opts: ServeOptions = {}): Promise<ServeHandle> {
  let base = '';
  const handle = await startServe({ ...opts, routes: runtimeRoutes(() => base, opts.log) });
  base = handle.url;
  return handle;
}
