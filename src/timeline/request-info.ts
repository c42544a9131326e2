/**
 * What an upgrade request's URL says: which hop of the exec path it is, the
 * operation, namespace/pod/container, and the options in the query.
 */
import { parseQuery, pathSegments, queryValues } from '../http/target.js';
import type { ExecTarget, SessionKind } from './events.js';

export interface RequestInfo extends ExecTarget {
  kind: SessionKind;
  /** Port-forward ports from the query (`ports=` at the API server, `port=a,b` at the kubelet); [] when none. */
  ports: number[];
}

/** The target of a session whose URL names none (not Kubernetes, or not understood). */
export function noExecTarget(): ExecTarget {
  return { hop: 'unknown', nodeProxy: null, namespace: null, pod: null, container: null, command: [], stdin: false, stdout: false, stderr: false, tty: false };
}

const OPERATIONS: Record<string, SessionKind> = { exec: 'exec', attach: 'attach', portforward: 'portforward' };

export function requestInfo(path: string, query: string): RequestInfo {
  const seg = pathSegments(path);
  const info: RequestInfo = { kind: 'unknown', ...noExecTarget(), ports: [] };
  if (apiTarget(seg, info)) {
    info.hop = 'client-apiserver';
  } else if (seg.length === 2 && OPERATIONS[seg[0]!.toLowerCase()]) {
    // /exec/{token}: the CRI streaming server; options live in the runtime's request cache
    info.kind = OPERATIONS[seg[0]!.toLowerCase()]!;
    info.hop = 'kubelet-runtime';
  } else if (seg.length > 2 && OPERATIONS[seg[0]!.toLowerCase()]) {
    info.kind = OPERATIONS[seg[0]!.toLowerCase()]!;
    if (kubeletTarget(seg, info)) info.hop = 'apiserver-kubelet';
  }
  const params = parseQuery(query);
  const container = queryValues(params, 'container')[0];
  if (container !== undefined && info.container === null) info.container = container;
  info.command = queryValues(params, 'command');
  if (info.hop === 'apiserver-kubelet' || info.nodeProxy !== null) {
    // The kubelet's URL: `input`, `output`, `error` and `tty`, each set only when it is "1"
    // (the API server writes them so; through the node proxy the client does)
    const set = (name: string) => queryValues(params, name)[0] === '1';
    info.stdin = set('input');
    info.stdout = set('output');
    info.stderr = set('error');
    info.tty = set('tty');
  } else {
    info.stdin = queryBool([...queryValues(params, 'stdin'), ...queryValues(params, 'input')]);
    info.stdout = queryBool([...queryValues(params, 'stdout'), ...queryValues(params, 'output')]);
    info.stderr = queryBool([...queryValues(params, 'stderr'), ...queryValues(params, 'error')]);
    info.tty = queryBool(queryValues(params, 'tty'));
  }
  for (const v of [...queryValues(params, 'ports'), ...queryValues(params, 'port')]) {
    for (const p of v.split(',')) {
      const n = Number(p.trim());
      if (Number.isInteger(n) && n > 0 && n < 65536) info.ports.push(n);
    }
  }
  return info;
}

/**
 * The API server's forms, after any prefix: kubectl puts the server URL's
 * path in front of them (`https://rancher.example/k8s/clusters/c-m-1` →
 * `/k8s/clusters/c-m-1/api/v1/…`), so each `api/v1` in the path is tried.
 * Fills in the kind and the target; false when none is one of them.
 */
function apiTarget(seg: string[], info: RequestInfo): boolean {
  for (let i = 0; i + 1 < seg.length; i++) {
    if (seg[i] !== 'api' || seg[i + 1] !== 'v1') continue;
    const n = seg.length - i;
    const op = OPERATIONS[seg[seg.length - 1]!.toLowerCase()];
    if (n === 7 && seg[i + 2] === 'namespaces' && seg[i + 4] === 'pods' && op) {
      // …/api/v1/namespaces/{ns}/pods/{pod}/{op}
      info.kind = op;
      info.namespace = seg[i + 3]!;
      info.pod = seg[i + 5]!;
      return true;
    }
    if (n >= 7 && seg[i + 2] === 'nodes' && seg[i + 4] === 'proxy' && kubeletTarget(seg.slice(i + 5), info)) {
      // …/api/v1/nodes/{node}/proxy/{kubelet path}: the API server passes the rest
      // of the path and the query on to that node's kubelet, so they are the kubelet's forms
      info.nodeProxy = seg[i + 3]!;
      return true;
    }
  }
  return false;
}

/**
 * The kubelet's URL forms: `/exec/{ns}/{pod}/{container}` (or
 * `/exec/{ns}/{pod}/{uid}/{container}`, and `/attach/…` alike),
 * `/portForward/{ns}/{pod}[/{uid}]`. Fills in the kind and the target; false
 * when `seg` is none of them.
 */
function kubeletTarget(seg: string[], info: RequestInfo): boolean {
  const kind = seg.length > 0 ? OPERATIONS[seg[0]!.toLowerCase()] : undefined;
  if (kind === undefined) return false;
  if (kind === 'portforward' ? seg.length !== 3 && seg.length !== 4 : seg.length !== 4 && seg.length !== 5) return false;
  info.kind = kind;
  info.namespace = seg[1]!;
  info.pod = seg[2]!;
  if (kind !== 'portforward') info.container = seg[seg.length - 1]!;
  return true;
}

/**
 * The API server's rule (apimachinery `Convert_Slice_string_To_bool`):
 * absent → false; "0" or "false" (any case) → false; anything else, even
 * empty → true. Only the first value counts.
 */
export function queryBool(values: string[]): boolean {
  if (values.length === 0) return false;
  const v = values[0]!;
  return !(v === '0' || v.toLowerCase() === 'false');
}
