/**
 * The hops' pure pieces: the kubelet URL forms as a kube-apiserver writes
 * them (compared with what a real 1.33 apiserver sent, in
 * ../shared/real-apiserver), and the headers an upgrade-aware proxy forwards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forwardHeaders } from '../../src/serve/hops/forward-headers.js';
import { goQueryEscape, kubeletPath, parseKubeletUrl, type KubeletTarget } from '../../src/serve/hops/kubelet-urls.js';
import { apiserverMinor } from '../../src/serve/hops/apiserver.js';

const base: KubeletTarget = {
  sub: 'exec',
  namespace: 'default',
  pod: 'web',
  container: 'main',
  command: ['sh', '-c', 'exit 7'],
  stdin: false,
  stdout: true,
  stderr: true,
  tty: false,
};

describe('kubelet URL forms', () => {
  it('exec as a real kube-apiserver 1.33 wrote it', () => {
    expect(kubeletPath(base)).toBe('/exec/default/web/main?command=sh&command=-c&command=exit+7&error=1&output=1');
    expect(kubeletPath({ ...base, command: ['cat'], stdin: true })).toBe('/exec/default/web/main?command=cat&error=1&input=1&output=1');
    expect(kubeletPath({ ...base, sub: 'portforward' })).toBe('/portForward/default/web');
    expect(kubeletPath({ ...base, sub: 'attach', command: [], stdin: true, stderr: false, tty: true })).toBe(
      '/attach/default/web/main?input=1&output=1&tty=1',
    );
  });

  it("Go's QueryEscape: unreserved bytes kept, space as +, everything else %XX", () => {
    expect(goQueryEscape('cat; printf "x\\n" >&2 ~_.-')).toBe('cat%3B+printf+%22x%5Cn%22+%3E%262+~_.-');
    expect(goQueryEscape('é')).toBe('%C3%A9');
  });

  it('what the apiserver writes, the kubelet reads back (any command, flags, names)', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/);
    fc.assert(
      fc.property(
        name,
        name,
        name,
        fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 5 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (namespace, pod, container, command, stdin, stdout, stderr, tty) => {
          const t: KubeletTarget = { sub: 'exec', namespace, pod, container, command, stdin, stdout, stderr, tty };
          expect(parseKubeletUrl(new URL(kubeletPath(t), 'http://kubelet'))).toEqual(t);
        },
      ),
    );
  });

  it('the uid segment is accepted; other paths are not kubelet forms', () => {
    expect(parseKubeletUrl(new URL('http://k/exec/ns/p/uid-1/c?command=ls&output=1'))).toMatchObject({ container: 'c', command: ['ls'], stdout: true });
    expect(parseKubeletUrl(new URL('http://k/portForward/ns/p/uid-1'))).toMatchObject({ sub: 'portforward', pod: 'p' });
    expect(parseKubeletUrl(new URL('http://k/api/v1/namespaces/ns/pods/p/exec'))).toBeNull();
    expect(parseKubeletUrl(new URL('http://k/exec/ns/p'))).toBeNull();
  });
});

describe('forwarded headers', () => {
  it("kubectl's headers kept in Go's order, Authorization dropped, X-Forwarded-For added (as a real apiserver did for the tunnel)", () => {
    const raw = [
      'Host', '127.0.0.1:7443',
      'User-Agent', 'kubectl.1.33/v1.33.1 (linux/amd64) kubernetes/8adc0f0',
      'Authorization', 'Bearer secret',
      'X-Stream-Protocol-Version', 'portforward.k8s.io',
      'Upgrade', 'SPDY/3.1',
      'Kubectl-Session', 'abc',
      'Connection', 'Upgrade',
      'Kubectl-Command', 'kubectl port-forward',
      'Content-Length', '0',
    ];
    expect(forwardHeaders(raw, { remoteAddress: '::ffff:127.0.0.1' })).toEqual([
      ['Host', '127.0.0.1:7443'],
      ['User-Agent', 'kubectl.1.33/v1.33.1 (linux/amd64) kubernetes/8adc0f0'],
      ['Content-Length', '0'],
      ['Connection', 'Upgrade'],
      ['Kubectl-Command', 'kubectl port-forward'],
      ['Kubectl-Session', 'abc'],
      ['Upgrade', 'SPDY/3.1'],
      ['X-Forwarded-For', '127.0.0.1'],
      ['X-Stream-Protocol-Version', 'portforward.k8s.io'],
    ]);
  });

  it('every X-Stream-Protocol-Version line kept in order; a prior X-Forwarded-For extended', () => {
    const raw = ['Host', 'h', 'x-stream-protocol-version', 'v4.channel.k8s.io', 'X-Forwarded-For', '10.0.0.1', 'X-Stream-Protocol-Version', 'v3.channel.k8s.io'];
    const out = forwardHeaders(raw, { remoteAddress: '127.0.0.1' });
    expect(out.filter(([k]) => k === 'X-Stream-Protocol-Version').map(([, v]) => v)).toEqual(['v4.channel.k8s.io', 'v3.channel.k8s.io']);
    expect(out.find(([k]) => k === 'X-Forwarded-For')![1]).toBe('10.0.0.1, 127.0.0.1');
  });
});

describe('--apiserver-version', () => {
  it('reads 1.N, v1.N and 1.N.P; refuses anything else', () => {
    expect(apiserverMinor('1.29')).toBe(29);
    expect(apiserverMinor('v1.30.2')).toBe(30);
    expect(() => apiserverMinor('2.0')).toThrow(/expected 1\.N/);
    expect(() => apiserverMinor('latest')).toThrow(/expected 1\.N/);
  });
});
