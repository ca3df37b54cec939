/** Small interfaces named by role; adapters implement them, composition roots wire them. */
import type { ClusterSnapshot } from './audit/index.js';

/** Reads one cluster. Never resolves with an empty list for a read that failed: that is unknown, not empty. */
export interface ClusterSource {
  readonly cluster: string;
  read(): Promise<ClusterSnapshot>;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
