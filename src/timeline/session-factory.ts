/**
 * Which interpreter an upgraded connection gets: Kubernetes streams, a plain
 * WebSocket session, a raw upgrade, or (a subprotocol-less WebSocket with a
 * URL that says nothing) the first messages decide.
 */
import type { DecoderContext } from './connection.js';
import type { SessionInterpreter } from './interpreter.js';
import { PlainWebSocketSession } from './plain-websocket.js';
import { RawUpgradeSession } from './raw-session.js';
import { Session, type SessionSetup } from './session.js';
import { WebSocketByMessages, type WebSocketApplication } from './websocket-application.js';

export type SessionChoice = WebSocketApplication | 'raw';

export function createSession(setup: SessionSetup, ctx: DecoderContext, choice: SessionChoice): SessionInterpreter {
  switch (choice) {
    case 'kubernetes':
      return new Session(setup, ctx);
    case 'websocket':
      return new PlainWebSocketSession(setup, ctx);
    case 'raw':
      return new RawUpgradeSession(setup, ctx);
    case 'by-messages':
      return new WebSocketByMessages(setup.id, setup.baseOffset, (app) => (app === 'kubernetes' ? new Session(setup, ctx) : new PlainWebSocketSession(setup, ctx)), setup.inferred);
    default: {
      const never: never = choice;
      throw new Error(`unknown session choice ${String(never)}`);
    }
  }
}
