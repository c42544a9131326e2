/**
 * The minimum of the Kubernetes API that kubectl needs before it upgrades a
 * connection for exec, attach or port-forward: discovery, `GET pod`, and a
 * Status body for everything else. Any namespace and pod name is accepted;
 * every pod is Running with one container.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface FakeApiOptions {
  /** Container name reported for every pod. */
  containerName?: string;
  /** Server version reported by /version. */
  gitVersion?: string;
}

const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/;

/**
 * Answer a plain (non-upgrade) request. Returns false when the request is not
 * one we know, after writing a 404 Status.
 */
export function handleApiRequest(req: IncomingMessage, res: ServerResponse, opts: FakeApiOptions = {}): boolean {
  const url = new URL(req.url ?? '/', 'http://local');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const body = apiResponse(req.method ?? 'GET', path, opts);
  if (body) {
    sendJson(res, 200, body);
    return true;
  }
  sendJson(res, 404, notFoundStatus(path));
  return false;
}

export function apiResponse(method: string, path: string, opts: FakeApiOptions = {}): object | null {
  if (method !== 'GET') return null;
  switch (path) {
    case '/version':
      return {
        major: '1',
        minor: '33',
        gitVersion: opts.gitVersion ?? 'v1.33.0-kubewire',
        platform: `${process.platform}/${process.arch}`,
      };
    case '/api':
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
      };
    case '/apis':
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
    case '/api/v1':
      return {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          {
            name: 'pods',
            singularName: 'pod',
            namespaced: true,
            kind: 'Pod',
            verbs: ['get', 'list'],
            shortNames: ['po'],
          },
          { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
          { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
          {
            name: 'pods/portforward',
            singularName: '',
            namespaced: true,
            kind: 'PodPortForwardOptions',
            verbs: ['create', 'get'],
          },
        ],
      };
  }
  const m = POD_PATH.exec(path);
  if (m) return pod(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), opts.containerName ?? 'main');
  return null;
}

export function pod(namespace: string, name: string, container: string): object {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name, namespace, uid: '00000000-0000-4000-8000-000000000000', creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: {
      containers: [{ name: container, image: 'kubewire/local', stdin: true, tty: true }],
      nodeName: 'localhost',
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        {
          name: container,
          ready: true,
          started: true,
          restartCount: 0,
          image: 'kubewire/local',
          imageID: '',
          state: { running: { startedAt: '2024-01-01T00:00:00Z' } },
        },
      ],
    },
  };
}

export function notFoundStatus(path: string): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `the server could not find the requested resource (${path})`,
    reason: 'NotFound',
    details: {},
    code: 404,
  };
}

function sendJson(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
