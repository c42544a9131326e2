/**
 * Where the tap's timestamps come from. Injected so tests can be
 * deterministic; the default is wall-clock time with sub-millisecond
 * resolution, in the same unit capture timestamps use (µs since the epoch).
 */
import { performance } from 'node:perf_hooks';
import type { Timestamp } from '../tcp/types.js';

export type Clock = () => Timestamp;

/**
 * `timeOrigin + now()` rather than `Date.now()`: microsecond resolution and
 * monotonic within the process, so events on one connection never go back in
 * time even if the system clock is stepped while the tap runs.
 */
export const systemClock: Clock = () => Math.floor((performance.timeOrigin + performance.now()) * 1000);
