/**
 * Every `kubewire` sub-command, in the order `--help` lists them. Each lives in
 * its own file beside this one; add a command by appending it here.
 */
import type { CommandModule } from 'yargs';
import { decodeCommand } from './decode.js';
import { serveCommand } from './serve.js';
import { tapCommand } from './tap.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command has its own argument type
export const commands: CommandModule<any, any>[] = [decodeCommand, serveCommand, tapCommand];
