// Every command the extension contributes, in one place. package.json must list exactly these; a host test
// checks both directions.
export const CommandId = {
  setApiKey: 'flora.setApiKey',
  removeApiKey: 'flora.removeApiKey',
  runTechnique: 'flora.runTechnique',
  addTechnique: 'flora.addTechnique',
  removeTechnique: 'flora.removeTechnique',
  refreshTechniques: 'flora.refreshTechniques',
  filterTechniques: 'flora.filterTechniques',
  clearTechniqueFilter: 'flora.clearTechniqueFilter',
  openTechniqueInFlora: 'flora.openTechniqueInFlora',
  copyTechniqueSlug: 'flora.copyTechniqueSlug',
  openPreview: 'flora.openPreview',
  insertOutputUrl: 'flora.insertOutputUrl',
  copyOutputUrl: 'flora.copyOutputUrl',
  downloadOutput: 'flora.downloadOutput',
  runAgain: 'flora.runAgain',
  resumeRun: 'flora.resumeRun',
  stopFollowing: 'flora.stopFollowing',
  clearFinishedRuns: 'flora.clearFinishedRuns',
  showRuns: 'flora.showRuns',
  showLog: 'flora.showLog',
} as const;
export type CommandId = (typeof CommandId)[keyof typeof CommandId];

export const ContextKey = {
  hasApiKey: 'flora.hasApiKey',
  techniqueFilterActive: 'flora.techniqueFilterActive',
  /** The user added techniques of their own (the palette's Remove Technique needs one). */
  hasAddedTechniques: 'flora.hasAddedTechniques',
  /** A run was started or an output inserted in this profile: the walkthrough checks its steps off. */
  hasStartedRun: 'flora.hasStartedRun',
  hasInsertedOutput: 'flora.hasInsertedOutput',
} as const;

export const ViewId = {
  container: 'flora',
  techniques: 'flora.techniques',
  addedTechniques: 'flora.addedTechniques',
  runs: 'flora.runs',
} as const;

export const PREVIEW_VIEW_TYPE = 'flora.preview';
export const API_KEYS_URL = 'https://app.flora.ai/projects?openSettings=true&initialTab=apiKeys';
