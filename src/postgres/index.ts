/**
 * kv-envelope/postgres: field encryption for a fleet on PostgreSQL — the shared key store.
 *
 * @module
 */
export { PostgresKeyStore } from './key-store.js';
export type { PostgresKeyStoreOptions } from './key-store.js';
export type { SqlClient } from './internal/sql-client.js';
export { rewrapTable } from './rewrap-table.js';
export type { RewrapTableOptions, RewrapTableProgress, RewrapTableResult, RewrapTableFailure } from './rewrap-table.js';
export { planBlindIndex } from '../search/planner.js';
export type { BlindIndexPlan, BlindIndexPlanInput } from '../search/planner.js';
