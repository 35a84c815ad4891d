/**
 * Ready-made mappings for well-known systems. Each preset folder holds `mapping.yaml` (options and
 * entities → `$source` mapping fragments) and a README citing the public evidence for every table
 * and column. They are config fragments: config/presets.ts reads and validates them, and the
 * config loader expands them into `entities` for every source that names a preset.
 */
export { PRESET_DIR, PRESET_SOURCE, presetMappings, presetNames, resolvePreset, type PresetOptionValue } from '../../config/presets.js';
