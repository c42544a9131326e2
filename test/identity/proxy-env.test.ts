/**
 * The proxy taken from the environment when a kubeconfig names none, by
 * Go's rules (what kubectl beside the tap does).
 */
import { describe, expect, it } from 'vitest';
import { proxyFromEnvironment } from '../../src/identity/proxy-env.js';

const server = (u: string) => new URL(u);
const proxyFor = (env: Record<string, string>, u: string) => proxyFromEnvironment(env, server(u))?.href ?? null;

describe('proxyFromEnvironment', () => {
  it('HTTPS_PROXY for https servers, HTTP_PROXY for http ones, upper case first', () => {
    const env = { HTTPS_PROXY: 'http://secure-proxy:3128', https_proxy: 'http://lower:1', HTTP_PROXY: 'http://plain-proxy:8080' };
    expect(proxyFor(env, 'https://api.example:6443')).toBe('http://secure-proxy:3128/');
    expect(proxyFor(env, 'http://api.example:8080')).toBe('http://plain-proxy:8080/');
    expect(proxyFor({ https_proxy: 'http://lower:1' }, 'https://api.example')).toBe('http://lower:1/');
    expect(proxyFor({ HTTP_PROXY: 'http://plain-proxy:8080' }, 'https://api.example')).toBeNull();
  });

  it('a proxy without a scheme is http://; socks5 proxies are kept as they are', () => {
    expect(proxyFor({ HTTPS_PROXY: 'proxy.corp:3128' }, 'https://api.example')).toBe('http://proxy.corp:3128/');
    expect(proxyFor({ HTTPS_PROXY: 'socks5://127.0.0.1:1080' }, 'https://api.example')).toBe('socks5://127.0.0.1:1080');
    expect(proxyFor({ HTTPS_PROXY: 'http://u:p%40ss@proxy:3128' }, 'https://api.example')).toBe('http://u:p%40ss@proxy:3128/');
  });

  it('never for localhost and loopback addresses', () => {
    const env = { HTTPS_PROXY: 'http://proxy:3128' };
    for (const u of ['https://localhost:6443', 'https://127.0.0.1:6443', 'https://127.1.2.3', 'https://[::1]:6443']) expect(proxyFor(env, u), u).toBeNull();
    expect(proxyFor(env, 'https://localhost.example')).not.toBeNull();
  });

  it('NO_PROXY: *, IPs, CIDR blocks, domains with and without a leading dot, ports', () => {
    const p = (noProxy: string, u: string) => proxyFor({ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: noProxy }, u);
    expect(p('*', 'https://api.example')).toBeNull();
    expect(p('10.0.0.1', 'https://10.0.0.1:6443')).toBeNull();
    expect(p('10.0.0.1', 'https://10.0.0.2:6443')).not.toBeNull();
    expect(p('10.96.0.0/12', 'https://10.100.1.1')).toBeNull();
    expect(p('10.96.0.0/12', 'https://10.112.0.1')).not.toBeNull();
    expect(p('fd00::/8', 'https://[fd12::1]:6443')).toBeNull();
    expect(p('example.com', 'https://example.com')).toBeNull();
    expect(p('example.com', 'https://api.example.com')).toBeNull();
    expect(p('example.com', 'https://notexample.com')).not.toBeNull();
    expect(p('.example.com', 'https://example.com')).not.toBeNull();
    expect(p('.example.com', 'https://api.example.com')).toBeNull();
    expect(p('*.example.com', 'https://api.example.com')).toBeNull();
    expect(p('api.example.com:6443', 'https://api.example.com:6443')).toBeNull();
    expect(p('api.example.com:443', 'https://api.example.com:6443')).not.toBeNull();
    expect(p('api.example.com:443', 'https://api.example.com')).toBeNull();
    expect(p(' other.test , API.Example.com ', 'https://api.example.com')).toBeNull();
    expect(proxyFor({ HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'api.example.com' }, 'https://api.example.com')).toBeNull();
  });

  it('nothing set, or nothing usable: direct', () => {
    expect(proxyFor({}, 'https://api.example')).toBeNull();
    expect(proxyFor({ HTTPS_PROXY: '' }, 'https://api.example')).toBeNull();
    expect(proxyFor({ HTTPS_PROXY: 'ftp://proxy' }, 'https://api.example')).toBeNull();
  });
});
