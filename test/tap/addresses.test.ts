import { describe, expect, it } from 'vitest';
import { hostPort, parseListen, parseUpstream } from '../../src/tap/index.js';

describe('--listen', () => {
  it('stays on loopback unless a host is named', () => {
    expect(parseListen('8443')).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(parseListen(':8443')).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(parseListen('0.0.0.0:8443')).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('localhost:9')).toEqual({ host: 'localhost', port: 9 });
  });
  it('rejects what is not an address', () => {
    for (const bad of ['', 'host', '1.2.3.4:', '::1:80', '[nope]:80', '1.2.3.4:65536', 'a:b']) {
      expect(() => parseListen(bad), bad).toThrow(TypeError);
    }
  });
});

describe('--upstream', () => {
  it('takes http and https URLs with default ports', () => {
    expect(parseUpstream('https://10.0.0.1:6443')).toEqual({ protocol: 'https', host: '10.0.0.1', port: 6443 });
    expect(parseUpstream('https://api.example')).toEqual({ protocol: 'https', host: 'api.example', port: 443 });
    expect(parseUpstream('http://[::1]:8080/')).toEqual({ protocol: 'http', host: '::1', port: 8080 });
    expect(parseUpstream('http://h')).toEqual({ protocol: 'http', host: 'h', port: 80 });
  });
  it('rejects other schemes, paths and credentials', () => {
    for (const bad of ['ftp://h', 'h:80', 'https://h/api', 'https://u:p@h', 'https://h?x=1', 'not a url']) {
      expect(() => parseUpstream(bad), bad).toThrow(TypeError);
    }
  });
  it('brackets IPv6 literals for URLs', () => {
    expect(hostPort('::1', 443)).toBe('[::1]:443');
    expect(hostPort('127.0.0.1', 443)).toBe('127.0.0.1:443');
  });
});
