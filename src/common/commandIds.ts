// Every command the extension contributes, in one place. package.json must list exactly these; a host test
// checks both directions.
export const CommandId = {
  setApiKey: 'flora.setApiKey',
  removeApiKey: 'flora.removeApiKey',
  runTechnique: 'flora.runTechnique',
  runTechniqueWithFile: 'flora.runTechniqueWithFile',
  configureUpload: 'flora.configureUpload',
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
