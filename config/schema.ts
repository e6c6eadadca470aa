/**
 * The config schema (JSON Schema, draft-07, validated by ajv in strict mode).
 *
 * One section per owner; every object says `additionalProperties: false`, so
 * a misspelled key is an error, never silently ignored. Each instrument entry
 * is checked in a second pass against its driver factory's own schema
 * (drivers/<kind>/index.ts), so the instrument folders own their settings.
 * Owners of `scene`, `sessions` and `api` add their sections to
 * CONFIG_SECTIONS below (one entry each, keep them closed).
 *
 * Units: `unit` annotates numbers (it is an annotation only).
 */
import { NUCLEI_SCENE_SCHEMA } from '../drivers/odmr/scene.js';

import { SESSIONS_SCHEMA } from '../daemon/store/config.js';
import { API_CONFIG_SCHEMA } from '../daemon/api/config.js';
import { WEB_CONFIG_SCHEMA } from '../daemon/web/config.js';
import { EMITTER_SCENE_SCHEMA } from '../drivers/hbt/scene.js';
import { MRFM_SCENE_SCHEMA } from '../drivers/force/scene.js';
import { MAGNETIC_SCENE_SCHEMA } from '../drivers/camera/scene.js';

/** `rig`: the rig as a whole. Owner: foundation. */
export const RIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['seed'],
  properties: {
    name: { type: 'string', description: 'Human name of the rig, shown in status and logs.' },
    seed: { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, description: 'Seed of the simulated world (scene, noise, faults).' },
    clock: {
      enum: ['real', 'scaled', 'virtual'],
      default: 'real',
      description: 'real: wall time; scaled: virtual time paced at speed × wall time (demos); virtual: as fast as possible. scaled and virtual are deterministic and need a fully simulated rig: one with a real instrument runs on the real clock.',
    },
    speed: { type: 'number', exclusiveMinimum: 0, default: 1, unit: '1', description: 'Experiment seconds per wall second for the scaled clock (at most: computation takes no experiment time).' },
  },
} as const;

/** `log`: logging. Owner: foundation. */
export const LOG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
  },
} as const;

/**
 * One entry of `instruments` as far as the top level knows it; the driver
 * factory's schema checks the rest (and closes the object).
 */
export const INSTRUMENT_ENTRY_SCHEMA = {
  type: 'object',
  required: ['kind', 'impl'],
  properties: {
    kind: { type: 'string', description: 'Instrument kind: the folder under drivers/ (piezo, hbt, ...).' },
    impl: { type: 'string', description: "Implementation: 'sim' or a real adapter's name." },
  },
} as const;

/** `demo`: an acquisition `npm start` runs once after start-up. Owner: foundation (hook), engine (plans). */
export const DEMO_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['plan'],
  properties: {
    enabled: { type: 'boolean', default: true },
    plan: { type: 'string', description: 'Registered plan name, e.g. antibunching-scan.' },
    params: { type: 'object', default: {}, description: "Plan parameters, validated by the plan's own schema." },
    speed: {
      type: 'number',
      exclusiveMinimum: 0,
      unit: '1',
      description: 'Clock speed for the demo when neither --speed nor a non-real rig clock is given (scaled clock).',
    },
  },
} as const;

/** `scene`: the simulated world's scene parameters, one entry per scene part (added by their owners). */
export const SCENE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    // ---- scene parts: one line each, e.g. `emitters: EMITTERS_SCENE_SCHEMA,` ----
    nuclei: NUCLEI_SCENE_SCHEMA,
    emitters: EMITTER_SCENE_SCHEMA,
    mrfm: MRFM_SCENE_SCHEMA,
    magnetic: MAGNETIC_SCENE_SCHEMA,
  },
} as const;

/** Every top-level section; owners add theirs here (one line each). */
export const CONFIG_SECTIONS: Record<string, Record<string, unknown>> = {
  rig: RIG_SCHEMA,
  log: LOG_SCHEMA,
  instruments: {
    type: 'object',
    default: {},
    propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_-]*$' },
    additionalProperties: INSTRUMENT_ENTRY_SCHEMA,
    description: 'Instruments by id; the id names their streams (`<id>.<channel>`).',
  },
  scene: SCENE_SCHEMA,
  demo: DEMO_SCHEMA,
  // ---- sections of other owners: sessions, api, ... ----
  sessions: SESSIONS_SCHEMA,
  api: API_CONFIG_SCHEMA,
  web: WEB_CONFIG_SCHEMA,
};

/** The top-level schema: closed, `rig` required. */
export function topLevelSchema(): Record<string, unknown> {
  return {
    $id: 'qscope-config',
    type: 'object',
    additionalProperties: false,
    required: ['rig'],
    properties: { ...CONFIG_SECTIONS },
  };
}
