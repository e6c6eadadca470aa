// Types of completion-fixtures.mjs (plain JS, shared with the benchmark).
export function lowRank(m: number, n: number, rank: number, seed: number, scale?: number, offset?: number): Float64Array;
export function randomMatrix(m: number, n: number, seed: number): Float64Array;
export function nvMap(m: number, n: number, seed: number): Float64Array;
export function randomMask(size: number, p: number, seed: number): Uint8Array;
export function observe(full: Float64Array, mask: Uint8Array): Float64Array;
export function relativeError(x: Float64Array, truth: Float64Array, centred?: boolean): number;
