/**
 * `kubewire serve`: a local fake Kubernetes API that real kubectl can exec,
 * attach and port-forward against. Prints the kubeconfig, then serves until
 * interrupted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import {
  apiserverMinor,
  hopRecorder,
  isLoopback,
  loadClientCa,
  parseListen,
  parseTokenFile,
  startApiserverHop,
  startChain,
  startKubeletHop,
  startRuntimeHop,
  startServe,
  kubeconfigYaml,
  type TokenRecord,
} from '../../serve/index.js';

export interface ServeCliArgs {
  listen: string;
  token?: string;
  'token-file'?: string;
  'client-ca'?: string;
  tls?: boolean;
  'tls-cert'?: string;
  'tls-key'?: string;
  echo: boolean;
  'attach-command'?: string;
  'connect-host': string;
  'kubeconfig-out'?: string;
  quiet: boolean;
  as?: 'apiserver' | 'kubelet' | 'runtime';
  upstream?: string;
  'apiserver-version': string;
  chain: boolean;
  record?: string;
}

export const serveCommand: CommandModule<object, ServeCliArgs> = {
  command: 'serve',
  describe: 'Run a local fake Kubernetes API for kubectl exec, attach and port-forward (runs commands on this machine)',
  builder: (y: Argv) =>
    y
      .option('listen', {
        type: 'string',
        default: '127.0.0.1:8001',
        describe: 'host:port to listen on; beyond loopback --token, --token-file or --client-ca is required',
      })
      .option('token', { type: 'string', describe: 'Bearer token clients may present (checked in constant time; user "kubewire" in the log)' })
      .option('token-file', {
        type: 'string',
        normalize: true,
        describe:
          'Bearer tokens of several users, kube-apiserver --token-auth-file format: CSV lines token,user,uid,"group1,group2" (groups optional)',
      })
      .option('client-ca', {
        type: 'string',
        normalize: true,
        describe:
          'PEM CA bundle for client certificates, as kube-apiserver --client-ca-file: user = Subject CN, groups = Subject O; implies TLS',
      })
      .option('tls', {
        type: 'boolean',
        describe:
          'Serve HTTPS with a generated self-signed certificate (default: on with --token, --token-file or --client-ca; kubectl sends credentials only over HTTPS)',
      })
      .option('tls-cert', { type: 'string', normalize: true, describe: 'PEM certificate for HTTPS (with --tls-key)' })
      .option('tls-key', { type: 'string', normalize: true, describe: 'PEM private key for HTTPS (with --tls-cert)' })
      .option('echo', { type: 'boolean', default: false, describe: 'Echo stdin to stdout instead of running commands' })
      .option('attach-command', {
        type: 'string',
        describe: 'What `kubectl attach` starts as the pod\'s main process (default /bin/sh; split on spaces)',
      })
      .option('connect-host', {
        type: 'string',
        default: '127.0.0.1',
        describe: 'Where port-forward connects: pod port P becomes TCP <connect-host>:P on this machine',
      })
      .option('kubeconfig-out', { type: 'string', normalize: true, describe: 'Also write the kubeconfig to this file' })
      .option('quiet', { type: 'boolean', default: false, describe: 'Do not log requests (the log names each request\'s user, never a token)' })
      .option('as', {
        choices: ['apiserver', 'kubelet', 'runtime'] as const,
        describe:
          'Play one hop of the exec path: apiserver (proxies to a kubelet, --upstream), kubelet (asks a runtime for a streaming URL and proxies to it, --upstream), runtime (runs commands; also answers /exec/{token} …)',
      })
      .option('upstream', { type: 'string', describe: 'With --as apiserver or kubelet: the next hop, http://127.0.0.1:PORT' })
      .option('apiserver-version', {
        type: 'string',
        default: '1.33',
        describe:
          'The kube-apiserver played by --as apiserver/--chain: 1.30+ translates WebSocket exec to SPDY (1.31+ also the port-forward tunnel); before, WebSocket passes through and the kubelet refuses it (403), so kubectl falls back to SPDY',
      })
      .option('chain', {
        type: 'boolean',
        default: false,
        describe: 'Start apiserver → kubelet → runtime on loopback ports; the kubeconfig points at the apiserver, the ports go to stderr',
      })
      .option('record', {
        type: 'string',
        normalize: true,
        describe: 'Append one JSON line per session to FILE when it ends: the hop, bytes and sha256 per stream and direction, the exit status',
      })
      .check((a) => {
        if (a.chain && a.as) throw new Error('--chain starts every hop: drop --as');
        if ((a.as === 'apiserver' || a.as === 'kubelet') && !a.upstream) throw new Error(`--as ${a.as} needs --upstream http://HOST:PORT`);
        if (a.upstream && a.as !== 'apiserver' && a.as !== 'kubelet') throw new Error('--upstream goes with --as apiserver or --as kubelet');
        apiserverMinor(a['apiserver-version']);
        if ((a.as || a.chain) && (a.token || a['token-file'] || a['client-ca'] || a.tls || a['tls-cert'])) {
          throw new Error('--as and --chain serve plain HTTP on loopback: no --token, --token-file, --client-ca or TLS');
        }
        if (!!a['tls-cert'] !== !!a['tls-key']) throw new Error('--tls-cert and --tls-key go together');
        if (a['client-ca'] && a.tls === false) throw new Error('--client-ca needs TLS: drop --no-tls');
        const { host } = parseListen(a.listen);
        if (!isLoopback(host) && !a.token && !a['token-file'] && !a['client-ca']) {
          throw new Error(`--listen ${a.listen} is beyond loopback: --token, --token-file or --client-ca is required`);
        }
        return true;
      })
      .example('$0 serve', 'HTTP on 127.0.0.1:8001, commands run locally')
      .example('$0 serve --echo --listen 127.0.0.1:0', 'built-in echo, any free port')
      .example('$0 serve --tls --token s3cret --listen 0.0.0.0:8443', 'HTTPS beyond loopback with a bearer token')
      .example(
        '$0 serve --tls-cert server.crt --tls-key server.key --client-ca ca.crt',
        'client certificates signed by ca.crt required (kube-apiserver --client-ca-file); the log names CN and O',
      )
      .example('$0 serve --token-file tokens.csv --client-ca ca.crt', 'a certificate or a token of the file; the log names the user')
      .example('$0 serve --chain --kubeconfig-out chain.yaml', 'apiserver → kubelet → runtime on three loopback ports; kubectl --kubeconfig chain.yaml exec … crosses all three')
      .example('$0 serve --chain --apiserver-version 1.29 --record hops.jsonl', 'a pre-1.30 apiserver (WebSocket refused, kubectl falls back to SPDY); each hop records its sessions')
      .example('$0 serve --as runtime --listen 127.0.0.1:10251', 'a container runtime: commands run here, /exec/{token} streaming URLs')
      .example('$0 serve --as kubelet --listen 127.0.0.1:10250 --upstream http://127.0.0.1:10251', 'a kubelet in front of that runtime')
      .example('$0 serve --as apiserver --listen 127.0.0.1:8001 --upstream http://127.0.0.1:10250', 'an API server in front of that kubelet')
      .epilogue(
        'With --token, --token-file or --client-ca every request must authenticate: a verified client certificate first, ' +
          'then a bearer token, else 401 Unauthorized (as kube-apiserver without anonymous auth). ' +
          'A certificate that does not verify is not a TLS error: the request gets the 401.\n' +
          'Exit codes: 0 stopped by SIGINT/SIGTERM, 2 bad command line or unreadable --token-file/--client-ca/--tls-* file.',
      ),
  handler: async (a) => {
    if (a.chain || a.as) return serveHops(a);
    const tls = a['tls-cert']
      ? { cert: readOption('--tls-cert', a['tls-cert']), key: readOption('--tls-key', a['tls-key']!) }
      : a.tls;
    const err = process.stderr;
    let tokens: TokenRecord[] | undefined;
    if (a['token-file']) {
      const file = parseTokenFile(readOption('--token-file', a['token-file']), `--token-file ${a['token-file']}`);
      for (const w of file.warnings) err.write(`kubewire serve: warning: ${w}\n`);
      tokens = file.records;
    }
    const clientCa = a['client-ca']
      ? loadClientCa(readOption('--client-ca', a['client-ca']), `--client-ca ${a['client-ca']}`)
      : undefined;
    if ((a.token || tokens) && tls === false) {
      err.write('kubewire serve: warning: bearer tokens over plain HTTP; kubectl will not send them\n');
    }
    const handle = await startServe({
      listen: a.listen,
      token: a.token,
      tokens,
      clientCa,
      tls,
      echo: a.echo,
      attachCommand: a['attach-command']?.split(' ').filter(Boolean),
      connectHost: a['connect-host'],
      log: a.quiet ? undefined : (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
    err.write(`kubewire serve: listening on ${handle.url} (${isLoopback(handle.host) ? 'loopback only' : 'BEYOND LOOPBACK'})\n`);
    const accepted = [
      ...(clientCa ? [`client certificates signed by ${a['client-ca']}`] : []),
      ...(a.token ? ['the --token'] : []),
      ...(tokens ? [`the tokens of ${tokens.length} user(s) in ${a['token-file']}`] : []),
    ];
    err.write(
      accepted.length
        ? `kubewire serve: authentication required on every request: ${accepted.join(', ')}\n`
        : 'kubewire serve: no authentication required (loopback only)\n',
    );
    err.write(
      a.echo
        ? 'kubewire serve: exec and attach echo stdin to stdout\n'
        : 'kubewire serve: exec RUNS COMMANDS ON THIS MACHINE as this user; attach starts ' +
            `${a['attach-command'] ?? '/bin/sh'}\n`,
    );
    err.write(`kubewire serve: port-forward connects to ${a['connect-host']}:<port>\n`);
    if (a['kubeconfig-out']) {
      writeFileSync(a['kubeconfig-out'], handle.kubeconfig, { mode: 0o600 });
      err.write(`kubewire serve: kubeconfig written to ${a['kubeconfig-out']}\n`);
    }
    err.write('kubewire serve: kubeconfig follows on stdout (save it and use kubectl --kubeconfig FILE)\n');
    process.stdout.write(handle.kubeconfig);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await handle.close();
  },
};

/** `--chain` and `--as ROLE`: the hops of the exec path, plain HTTP on loopback. */
async function serveHops(a: ServeCliArgs): Promise<void> {
  const err = process.stderr;
  const log = a.quiet ? undefined : (line: string) => err.write(`${new Date().toISOString()} ${line}\n`);
  const runtime = {
    echo: a.echo,
    attachCommand: a['attach-command']?.split(' ').filter(Boolean),
    connectHost: a['connect-host'],
  };
  // --listen keeps its meaning for a single hop; --chain takes free ports unless --listen was given for the apiserver.
  const listenGiven = process.argv.some((x) => x === '--listen' || x.startsWith('--listen='));
  const stops: Array<() => Promise<void>> = [];
  let kubeconfig: string | null = null;
  if (a.chain) {
    const chain = await startChain({
      runtime,
      listen: { apiserver: listenGiven ? a.listen : undefined },
      apiserverVersion: a['apiserver-version'],
      recordFile: a.record,
      log,
    });
    stops.push(() => chain.close());
    kubeconfig = chain.kubeconfig;
    err.write(`kubewire serve: chain apiserver ${chain.apiserver.url} → kubelet ${chain.kubelet.url} → runtime ${chain.runtime.url}\n`);
    err.write(`kubewire serve: ports apiserver=${chain.apiserver.port} kubelet=${chain.kubelet.port} runtime=${chain.runtime.port}\n`);
    err.write(`kubewire serve: apiserver ${a['apiserver-version']} (${apiserverMinor(a['apiserver-version']) >= 30 ? 'WebSocket exec translated to SPDY' : 'WebSocket passed through'})\n`);
  } else if (a.as === 'runtime') {
    const h = await startRuntimeHop({ ...runtime, listen: a.listen, log, record: hopRecorder('runtime', a.record) });
    stops.push(() => h.close());
    kubeconfig = h.kubeconfig;
    err.write(`kubewire serve: runtime on ${h.url} (streaming URLs /exec/{token}, /attach/{token}, /portforward/{token}; tokens from POST /cri/v1/exec|attach|portforward)\n`);
  } else if (a.as === 'kubelet') {
    const h = await startKubeletHop({ listen: a.listen, upstream: a.upstream!, log, record: hopRecorder('kubelet', a.record) });
    stops.push(() => h.close());
    err.write(`kubewire serve: kubelet on ${h.url} → runtime ${a.upstream}\n`);
  } else {
    const h = await startApiserverHop({
      listen: a.listen,
      upstream: a.upstream!,
      version: a['apiserver-version'],
      log,
      record: hopRecorder('apiserver', a.record),
    });
    stops.push(() => h.close());
    kubeconfig = kubeconfigYamlFor(h.url);
    err.write(`kubewire serve: apiserver ${a['apiserver-version']} on ${h.url} → kubelet ${a.upstream}\n`);
  }
  if (a.record) err.write(`kubewire serve: session records appended to ${a.record}\n`);
  if (kubeconfig) {
    if (a['kubeconfig-out']) {
      writeFileSync(a['kubeconfig-out'], kubeconfig, { mode: 0o600 });
      err.write(`kubewire serve: kubeconfig written to ${a['kubeconfig-out']}\n`);
    }
    err.write('kubewire serve: kubeconfig follows on stdout (save it and use kubectl --kubeconfig FILE)\n');
    process.stdout.write(kubeconfig);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  for (const stop of stops) await stop();
}

function kubeconfigYamlFor(server: string): string {
  return kubeconfigYaml({ server });
}

/** A file named by an option, as text; unreadable → an error naming the option and the file (exit 2). */
function readOption(option: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${option} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}
