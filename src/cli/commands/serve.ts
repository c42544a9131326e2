/**
 * `kubewire serve`: a local fake Kubernetes API that real kubectl can exec,
 * attach and port-forward against. Prints the kubeconfig, then serves until
 * interrupted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { isLoopback, parseListen, startServe } from '../../serve/index.js';

export interface ServeCliArgs {
  listen: string;
  token?: string;
  tls?: boolean;
  'tls-cert'?: string;
  'tls-key'?: string;
  echo: boolean;
  'attach-command'?: string;
  'connect-host': string;
  'kubeconfig-out'?: string;
  quiet: boolean;
}

export const serveCommand: CommandModule<object, ServeCliArgs> = {
  command: 'serve',
  describe: 'Run a local fake Kubernetes API for kubectl exec, attach and port-forward (runs commands on this machine)',
  builder: (y: Argv) =>
    y
      .option('listen', {
        type: 'string',
        default: '127.0.0.1:8001',
        describe: 'host:port to listen on; beyond loopback --token is required',
      })
      .option('token', { type: 'string', describe: 'Bearer token clients must present (checked in constant time)' })
      .option('tls', {
        type: 'boolean',
        describe: 'Serve HTTPS with a generated self-signed certificate (default: on with --token, which kubectl sends only over HTTPS)',
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
      .option('quiet', { type: 'boolean', default: false, describe: 'Do not log requests' })
      .check((a) => {
        if (!!a['tls-cert'] !== !!a['tls-key']) throw new Error('--tls-cert and --tls-key go together');
        const { host } = parseListen(a.listen);
        if (!isLoopback(host) && !a.token) throw new Error(`--listen ${a.listen} is beyond loopback: --token is required`);
        return true;
      })
      .example('$0 serve', 'HTTP on 127.0.0.1:8001, commands run locally')
      .example('$0 serve --echo --listen 127.0.0.1:0', 'built-in echo, any free port')
      .example('$0 serve --tls --token s3cret --listen 0.0.0.0:8443', 'HTTPS beyond loopback with a bearer token'),
  handler: async (a) => {
    const tls = a['tls-cert'] ? { cert: readFileSync(a['tls-cert']), key: readFileSync(a['tls-key']!) } : a.tls;
    if (a.token && tls === false) {
      process.stderr.write('kubewire serve: warning: --token over plain HTTP; kubectl will not send it\n');
    }
    const handle = await startServe({
      listen: a.listen,
      token: a.token,
      tls,
      echo: a.echo,
      attachCommand: a['attach-command']?.split(' ').filter(Boolean),
      connectHost: a['connect-host'],
      log: a.quiet ? undefined : (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
    const err = process.stderr;
    err.write(`kubewire serve: listening on ${handle.url} (${isLoopback(handle.host) ? 'loopback only' : 'BEYOND LOOPBACK'})\n`);
    err.write(
      a.token
        ? 'kubewire serve: bearer token required on every request\n'
        : 'kubewire serve: no token required (loopback only)\n',
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
